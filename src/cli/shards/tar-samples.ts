// A WebDataset shard read as a stream: tar members in order, grouped into
// samples by key the way WebDataset's group_by_keys does (the member's path up
// to the first dot of its file name is the key, the rest its lowercased
// extension; consecutive members with one key make one sample). Only the
// sample being grouped is held in memory, never the shard.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { AgqgError } from '../../model/errors.ts';
import { MAX_IMAGE_BYTES } from '../../model/limits.ts';

export interface ShardSample {
  key: string;
  /** Extension (lowercased, without the dot) -> the member's bytes. */
  members: Map<string, Uint8Array>;
  /** Members not read, with why (over the size limit, empty). */
  refused: Map<string, AgqgError>;
  /** A member name that appeared twice in this sample, if any (WebDataset refuses those). */
  duplicate: string | null;
}

/** WebDataset's split (base_plus_ext): the path without every extension of the file name, and those. */
const KEY_AND_EXT = /^((?:.*\/|)[^.]+)[.]([^/]*)$/;
/** WebDataset skips metadata members such as `__index__`. */
const META_MEMBER = /^__[^/]*__($|\/)/;

export function splitMemberName(name: string): { key: string; ext: string } | null {
  const m = KEY_AND_EXT.exec(name);
  return m ? { key: m[1], ext: m[2].toLowerCase() } : null;
}

export const isGzipped = (path: string): boolean => /\.(tgz|gz)$/i.test(path);

async function readEntry(entry: AsyncIterable<unknown>, size: number): Promise<Uint8Array> {
  // One buffer of the member's own size: it can then move to a decode worker without a copy.
  const out = new Uint8Array(size);
  let at = 0;
  for await (const data of entry) {
    const chunk = data as Buffer;
    if (at < size) out.set(chunk.subarray(0, size - at), at);
    at += chunk.byteLength;
  }
  return at >= size ? out : out.subarray(0, at);
}

async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of entry) void _;
}

/**
 * Samples of the shard at `path`, in tar order. A shard that cannot be read to its end (missing,
 * not a tar, truncated) throws, after yielding the samples read before the damage.
 */
export async function* readShardSamples(path: string): AsyncGenerator<ShardSample> {
  const file = createReadStream(path);
  const input: Readable = isGzipped(path) ? file.pipe(createGunzip()) : file;
  const tar = extract();
  // Errors of the file or the gunzip stream end the tar stream with them.
  file.on('error', (e) => tar.destroy(e));
  input.on('error', (e) => tar.destroy(e));
  input.pipe(tar);
  let current: ShardSample | null = null;
  try {
    for await (const entry of tar) {
      const h = entry.header;
      const split = splitMemberName(h.name);
      const regular = h.type === 'file' || h.type === 'contiguous-file';
      if (!regular || !split || META_MEMBER.test(h.name)) {
        await drain(entry);
        continue;
      }
      if (current && current.key !== split.key) {
        yield current;
        current = null;
      }
      current ??= { key: split.key, members: new Map(), refused: new Map(), duplicate: null };
      const size = h.size ?? 0;
      if (current.members.has(split.ext) || current.refused.has(split.ext)) {
        current.duplicate ??= h.name;
        await drain(entry);
      } else if (size > MAX_IMAGE_BYTES) {
        current.refused.set(
          split.ext,
          new AgqgError(
            'image_too_large',
            `${h.name} is ${size} bytes, over the limit of ${MAX_IMAGE_BYTES} bytes`,
          ),
        );
        await drain(entry);
      } else if (size === 0) {
        current.refused.set(split.ext, new AgqgError('empty_file', `${h.name} is empty (0 bytes)`));
        await drain(entry);
      } else {
        current.members.set(split.ext, await readEntry(entry, size));
      }
    }
  } finally {
    file.destroy();
  }
  if (current) yield current;
}
