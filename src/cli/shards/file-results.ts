// `agqg score FILE... --out DIR`: one JSON Lines file, DIR/results.jsonl, that
// grows as results arrive (each record one whole line, written with one call).
// A rerun reads what is there, skips the files already in it, and first cuts
// off a last line that a kill left half written.
import { closeSync, createReadStream, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from './outputs.ts';
import { summaryOf, type RecordSummary, type ScoreRecord } from './records.ts';

export const FILE_RESULTS = 'results.jsonl';

const NEWLINE = 0x0a;

/**
 * Walks a JSONL file line by line without holding it: `onRecord` per complete record; returns
 * the byte length of the complete lines (where a torn last line starts).
 */
export async function scanJsonl(path: string, onRecord: (r: ScoreRecord) => void): Promise<number> {
  let good = 0;
  let offset = 0;
  let lineNo = 0;
  let carry: Buffer[] = [];
  const take = (line: Buffer, end: number, last: boolean): void => {
    lineNo++;
    const text = line.toString('utf8').trim();
    if (text === '') {
      good = end;
      return;
    }
    let rec: ScoreRecord;
    try {
      rec = JSON.parse(text) as ScoreRecord;
    } catch (e) {
      if (last) return;
      throw new OutputError(`${path} line ${lineNo} is not a JSON record (${(e as Error).message})`);
    }
    onRecord(rec);
    good = end;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      const line = Buffer.concat([...carry, chunk.subarray(start, i)]);
      carry = [];
      take(line, offset + i + 1, false);
      start = i + 1;
    }
    if (start < chunk.byteLength) carry.push(chunk.subarray(start));
    offset += chunk.byteLength;
  }
  // A last line without its newline is whole only if it parses (then it gets its newline back).
  if (carry.length > 0) take(Buffer.concat(carry), offset, true);
  return good;
}

export class FileResults {
  private constructor(
    readonly path: string,
    private fd: number,
    /** Files already in the results (a rerun skips them). */
    readonly done: Map<string, RecordSummary>,
    /** Bytes of whole records: a failed write is cut back to it, so no torn line stays. */
    private size: number,
  ) {}

  /** Opens DIR/results.jsonl for appending, after reading (or, with `overwrite`, emptying) it. */
  static async open(dir: string, overwrite: boolean): Promise<FileResults> {
    const path = join(dir, FILE_RESULTS);
    const done = new Map<string, RecordSummary>();
    let fd: number;
    let keep = 0;
    try {
      fd = openSync(path, 'a+');
    } catch (e) {
      throw new OutputError(`cannot open ${path} (${(e as Error).message})`, { cause: e });
    }
    try {
      keep = overwrite
        ? 0
        : await scanJsonl(path, (r) => {
            if (typeof r.file === 'string') done.set(r.file, summaryOf(r));
          });
      ftruncateSync(fd, keep);
    } catch (e) {
      closeSync(fd);
      if (e instanceof OutputError) throw e;
      throw new OutputError(`cannot read ${path} (${(e as Error).message})`, { cause: e });
    }
    return new FileResults(path, fd, done, keep);
  }

  /** Appends one record as one line, in one write call. */
  add(record: ScoreRecord): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    try {
      for (let at = 0; at < line.byteLength;) at += writeSync(this.fd, line, at);
      this.size += line.byteLength;
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // The rerun cuts the torn line off instead.
      }
      throw new OutputError(`cannot write ${this.path} (${(e as Error).message})`, { cause: e });
    }
  }

  close(): void {
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}
