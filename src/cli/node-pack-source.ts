// A PackSource over a folder on disk, for the CLI, evaluation and training.
import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { AgqgError } from '../model/errors.ts';
import { openPack, type OpenedPack, type PackSource } from '../model/pack/pack.ts';

export class FolderPackSource implements PackSource {
  readonly location: string;
  constructor(readonly dir: string) {
    this.location = resolve(dir);
  }
  /** Manifests already refuse ".." paths; this also guards callers that pass paths of their own. */
  private abs(path: string): string {
    const abs = resolve(this.location, path);
    const rel = relative(this.location, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new AgqgError('pack_invalid', `"${path}" is outside the pack folder ${this.location}`);
    }
    return abs;
  }
  async readBytes(path: string): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(this.abs(path));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  async size(path: string): Promise<number | null> {
    try {
      const s = await stat(this.abs(path));
      return s.isFile() ? s.size : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}

export function openPackDir(dir: string): Promise<OpenedPack> {
  return openPack(new FolderPackSource(dir), basename(resolve(dir)));
}
