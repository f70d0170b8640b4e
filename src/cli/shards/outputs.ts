// Output files that survive: each is written under a temporary name in the same
// folder (a dot file ending in .tmp, named after this host and process) and
// renamed to its final name only once complete and flushed to disk, so a file
// with a final name is always whole. A write that fails (full disk, no access)
// removes the temporary file and stops the run with an OutputError.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { recordColumns, type ScoreRecord } from './records.ts';

/** The output folder cannot be written: the command stops with exit code 2. */
export class OutputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutputError';
  }
}

const why = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, '')}` : String(err?.message ?? e);
};

const HOST = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
const TMP_SUFFIX = '.tmp';
/** Buffered JSONL is written out past this many characters (fewer system calls per record). */
const FLUSH_CHARS = 64 * 1024;

export const tempPathFor = (final: string): string =>
  join(dirname(final), `.${basename(final)}.${HOST}.${process.pid}${TMP_SUFFIX}`);

/** Makes `dir` if needed and proves a file can be created, written and removed in it. */
export function checkOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new OutputError(`cannot create the output folder ${dir} (${why(e)})`, { cause: e });
  }
  if (!statSync(dir).isDirectory()) throw new OutputError(`--out ${dir} is a file, not a folder`);
  const probe = join(dir, `.agqg-probe.${HOST}.${process.pid}${TMP_SUFFIX}`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'x');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (e) {
    throw new OutputError(`cannot write in the output folder ${dir} (${why(e)})`, { cause: e });
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes temporary files left in `dir` by processes of this host that are gone (a kill -9);
 * those of live processes and of other hosts (a shared file system) are left alone.
 */
export function removeStaleTemps(dir: string): number {
  let removed = 0;
  const pattern = new RegExp(`^\\..+\\.${HOST}\\.(\\d+)\\${TMP_SUFFIX}$`);
  for (const name of readdirSync(dir)) {
    const m = pattern.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // Another worker of this host removed it first.
    }
  }
  return removed;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot sync a folder; the rename itself is still atomic.
  }
}

/** One output file being written; `commit` makes it appear under its final name. */
export interface AtomicOutput {
  readonly path: string;
  add(record: ScoreRecord): void;
  commit(): void;
  /** Removes the temporary file; the final name is never touched. */
  abort(): void;
}

abstract class TempFile implements AtomicOutput {
  protected readonly temp: string;
  protected fd: number | null;
  constructor(readonly path: string) {
    this.temp = tempPathFor(path);
    try {
      this.fd = openSync(this.temp, 'wx');
    } catch (e) {
      throw new OutputError(`cannot create ${this.temp} (${why(e)})`, { cause: e });
    }
  }
  abstract add(record: ScoreRecord): void;
  protected abstract finish(): void;

  protected write(data: string | Uint8Array): void {
    if (this.fd === null) throw new OutputError(`${this.path} is already closed`);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let at = 0; at < bytes.byteLength;) at += writeSync(this.fd, bytes, at);
    } catch (e) {
      const err = new OutputError(`cannot write ${this.temp} (${why(e)})`, { cause: e });
      this.abort();
      throw err;
    }
  }

  commit(): void {
    this.finish();
    try {
      fsyncSync(this.fd as number);
      closeSync(this.fd as number);
      this.fd = null;
      renameSync(this.temp, this.path);
    } catch (e) {
      const err = new OutputError(`cannot finish ${this.path} (${why(e)})`, { cause: e });
      this.abort();
      throw err;
    }
    fsyncDir(dirname(this.path));
  }

  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // Already unusable; the file is removed next.
      }
      this.fd = null;
    }
    try {
      unlinkSync(this.temp);
    } catch {
      // Never created, or already removed.
    }
  }
}

/** One JSON record a line (JSON Lines), in the order the samples were read. */
export class JsonlOutput extends TempFile {
  private pending = '';
  add(record: ScoreRecord): void {
    this.pending += `${JSON.stringify(record)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }
  private flush(): void {
    const text = this.pending;
    this.pending = '';
    if (text) this.write(text);
  }
  protected finish(): void {
    this.flush();
  }
}

/**
 * The flat schema of records.ts in one Parquet file. Records (not images) are held until the
 * shard ends: about 1 KB per sample.
 */
export class ParquetOutput extends TempFile {
  private readonly records: ScoreRecord[] = [];
  constructor(
    path: string,
    private readonly grades: number,
    private readonly meta: Record<string, string>,
  ) {
    super(path);
  }
  add(record: ScoreRecord): void {
    this.records.push(record);
  }
  protected finish(): void {
    const columnData = recordColumns(this.grades).map((c) => ({
      name: c.name,
      type: c.type,
      data: this.records.map(c.value),
      nullable: true,
    }));
    const kvMetadata = Object.entries(this.meta).map(([key, value]) => ({ key, value }));
    const buf = parquetWriteBuffer({ columnData, kvMetadata, createdBy: 'agqg score' });
    this.write(new Uint8Array(buf));
  }
}
