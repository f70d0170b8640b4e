// One file, downloaded into "<final>.part" and renamed to its final name only
// once its size and hash match. Resumes a .part left by an earlier run or a cut
// connection with an HTTP Range request (a server that answers 200 instead of
// 206 is followed from byte 0), hashes while streaming, retries a bounded
// number of times, and re-downloads a file with a wrong hash once before
// giving up with both hashes in the message.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { AgqgError } from '../../model/errors.ts';
import type { CliIO } from '../io.ts';
import { fileProgress, type FileProgress } from './byte-progress.ts';
import type { FetchFn, RemoteFile } from './hub.ts';

export interface DownloadOptions {
  fetch: FetchFn;
  io: CliIO;
  /** Attempts after the first for cut connections and 5xx answers. */
  retries: number;
  /** First wait between attempts; doubles each time. */
  retryDelayMs: number;
  /** A connection silent this long counts as cut. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Bytes an earlier run had left in the .part file. */
  resumedFrom: number;
  /** Requests made (1 when nothing went wrong). */
  requests: number;
}

class Retryable extends Error {}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => null);
  return s?.isFile() ? s.size : 0;
}

async function hashFile(
  path: string,
  algorithm: 'sha256' | 'sha1',
  prefix?: string,
): Promise<{ hash: Hash; size: number }> {
  const hash = createHash(algorithm);
  if (prefix !== undefined) hash.update(prefix);
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { hash, size };
}

/** Git's id of a plain file: SHA-1 of "blob <size>\0" + content. */
export async function gitBlobOid(path: string, size: number): Promise<string> {
  return (await hashFile(path, 'sha1', `blob ${size}\0`)).hash.digest('hex');
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  const cause = e.cause?.message ?? e.cause?.code;
  return `${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

function contentRangeStart(header: string | null): { start: number; total: number | undefined } | null {
  const m = header ? /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

/**
 * Streams the rest of the file into the .part file. Returns null on 404.
 * Throws Retryable for cut connections and server errors.
 */
async function fetchIntoPart(
  remote: RemoteFile,
  url: string,
  part: string,
  opts: DownloadOptions,
  progress: FileProgress,
): Promise<{ size: number; sha256: string } | null> {
  let have = await sizeOf(part);
  if (remote.size !== undefined && have > remote.size) {
    await rm(part, { force: true });
    have = 0;
  }
  if (remote.size !== undefined && have === remote.size) {
    const { hash } = await hashFile(part, 'sha256');
    return { size: have, sha256: hash.digest('hex') };
  }
  const idle = new AbortController();
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () => idle.abort(new Error(`no data for ${opts.idleTimeoutMs / 1000} s`)),
      opts.idleTimeoutMs,
    );
  };
  const signal = opts.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal;
  let fh: FileHandle | undefined;
  try {
    armIdle();
    let res: Response;
    try {
      res = await opts.fetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal });
    } catch (err) {
      throw new Retryable(idle.signal.aborted ? describe(idle.signal.reason) : describe(err));
    }
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      return null;
    }
    if (res.status === 416) {
      // The .part is not a prefix the server recognises: start over.
      await res.body?.cancel();
      await rm(part, { force: true });
      throw new Retryable(`the server refused the range from byte ${have} (416); restarting from byte 0`);
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      await res.body?.cancel();
      throw new Retryable(`the server answered ${res.status} ${res.statusText}`);
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new AgqgError('pack_file_missing', `${url} answered ${res.status} ${res.statusText}`);
    }
    let total = remote.size;
    if (res.status === 206) {
      const range = contentRangeStart(res.headers.get('content-range'));
      if (!range || range.start !== have) {
        await res.body?.cancel();
        await rm(part, { force: true });
        throw new Retryable(
          `the server sent a range starting elsewhere than byte ${have}; restarting from byte 0`,
        );
      }
      total ??= range.total;
    } else {
      if (have > 0)
        opts.io.err(`${remote.path}: the server ignored the range request (200); restarting from byte 0\n`);
      have = 0;
      const length = res.headers.get('content-length');
      if (total === undefined && length !== null && /^\d+$/.test(length)) total = Number(length);
    }
    progress.restart(have);
    const hash = have > 0 ? (await hashFile(part, 'sha256')).hash : createHash('sha256');
    fh = await open(part, have > 0 ? 'a' : 'w');
    if (!res.body) throw new Retryable('the response has no body');
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        armIdle();
        await fh.write(value);
        hash.update(value);
        have += value.byteLength;
        progress.update(have);
        if (total !== undefined && have > total) {
          throw new AgqgError(
            'pack_file_tampered',
            `${remote.path}: the server sent more than the expected ${total} bytes`,
          );
        }
      }
    } catch (err) {
      if (err instanceof AgqgError) throw err;
      throw new Retryable(idle.signal.aborted ? describe(idle.signal.reason) : describe(err));
    }
    if (total !== undefined && have < total)
      throw new Retryable(`the connection closed at byte ${have} of ${total}`);
    return { size: have, sha256: hash.digest('hex') };
  } finally {
    clearTimeout(idleTimer);
    await fh?.close();
  }
}

/**
 * Downloads `remote` to `dest` (via dest + ".part"). Null when the server has
 * no such file (404). Throws AgqgError: cancelled, pack_file_missing (gave up
 * retrying, or an HTTP error), pack_file_tampered (wrong size or hash twice).
 */
export async function downloadVerified(
  remote: RemoteFile,
  url: string,
  dest: string,
  opts: DownloadOptions,
): Promise<DownloadResult | null> {
  const part = `${dest}.part`;
  const resumedFrom = await sizeOf(part);
  const progress = fileProgress(opts.io, remote.path, remote.size, resumedFrom);
  let requests = 0;
  for (let pass = 0; ; pass++) {
    let got: { size: number; sha256: string } | null = null;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted)
        throw new AgqgError('cancelled', 'the fetch was cancelled', { cause: opts.signal.reason });
      try {
        requests++;
        got = await fetchIntoPart(remote, url, part, opts, progress);
        break;
      } catch (err) {
        if (opts.signal?.aborted)
          throw new AgqgError('cancelled', 'the fetch was cancelled', { cause: opts.signal.reason });
        if (!(err instanceof Retryable)) throw err;
        const at = await sizeOf(part);
        if (attempt >= opts.retries) {
          throw new AgqgError(
            'pack_file_missing',
            `${remote.path}: download failed after ${attempt + 1} attempts (${err.message}); ` +
              `${at} bytes are kept in ${part}, run the same command again to resume`,
          );
        }
        const wait = opts.retryDelayMs * 2 ** attempt;
        opts.io.err(
          `${remote.path}: ${err.message}; retry ${attempt + 1}/${opts.retries} from byte ${at} in ${wait} ms\n`,
        );
        await sleep(wait, opts.signal).catch((reason: unknown) => {
          throw new AgqgError('cancelled', 'the fetch was cancelled', { cause: reason });
        });
      }
    }
    if (got === null) return null;

    const problems: string[] = [];
    if (remote.size !== undefined && got.size !== remote.size) {
      problems.push(`size: expected ${remote.size} bytes, got ${got.size}`);
    }
    if (remote.sha256 !== undefined && got.sha256 !== remote.sha256) {
      problems.push(`SHA-256: expected ${remote.sha256}, got ${got.sha256}`);
    }
    if (remote.sha256 === undefined && remote.gitOid !== undefined) {
      const oid = await gitBlobOid(part, got.size);
      if (oid !== remote.gitOid) problems.push(`git blob id: expected ${remote.gitOid}, got ${oid}`);
    }
    if (problems.length === 0) {
      await rename(part, dest);
      progress.finish(
        remote.sha256
          ? 'verified (SHA-256)'
          : remote.gitOid
            ? 'verified (git blob id)'
            : 'size checked, no hash published',
      );
      return { path: remote.path, size: got.size, sha256: got.sha256, resumedFrom, requests };
    }
    await rm(part, { force: true });
    if (pass >= 1) {
      throw new AgqgError(
        'pack_file_tampered',
        `${remote.path} is corrupt after downloading it twice from ${url}: ${problems.join('; ')}. ` +
          'The mirror or a proxy serves different bytes than the hub lists; try another --base-url',
      );
    }
    opts.io.err(
      `${remote.path}: does not match the hub (${problems.join('; ')}); deleted, downloading again\n`,
    );
    progress.restart(0);
  }
}
