// A PackSource over a folder on disk, for the CLI, evaluation and training.
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { openPack, type OpenedPack, type PackSource } from '../model/pack';

export class FolderPackSource implements PackSource {
  readonly location: string;
  constructor(readonly dir: string) {
    this.location = resolve(dir);
  }
  private abs(path: string): string {
    return resolve(this.location, path);
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
