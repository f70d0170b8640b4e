// PackSources for the browser: a pack served with the site (models/<id>/) and a
// pack the user picked from a local folder (File objects, never uploaded); TrackingSource notes
// which files a load read.
import { AgqgError } from '../model/errors.ts';
import { MANIFEST_FILE } from '../model/pack/manifest.ts';
import type { PackSource } from '../model/pack/pack.ts';

/** The site's root URL (Vite's base), absolute. */
export function siteBase(): URL {
  return new URL(import.meta.env.BASE_URL, self.location.href);
}

export function modelsUrl(path: string): URL {
  return new URL(`models/${path}`, siteBase());
}

function isHtmlFallback(res: Response, path: string): boolean {
  // Some static hosts answer a missing file with the app's index.html and 200.
  const type = res.headers.get('content-type') ?? '';
  return type.includes('text/html') && !path.endsWith('.html');
}

export class HttpPackSource implements PackSource {
  readonly location: string;
  private readonly base: URL;
  /** Bodies fetched only to learn their size, kept for the read that follows. */
  private readonly fetched = new Map<string, Uint8Array>();

  constructor(readonly id: string) {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id))
      throw new AgqgError('pack_invalid', `"${id}" is not a valid pack id`);
    this.base = modelsUrl(`${id}/`);
    this.location = this.base.href.replace(/\/$/, '');
  }

  url(path: string): string {
    return new URL(path, this.base).href;
  }

  private async get(path: string, method: 'GET' | 'HEAD'): Promise<Response | null> {
    let res: Response;
    try {
      res = await fetch(this.url(path), { method });
    } catch (err) {
      throw new AgqgError(
        'pack_file_missing',
        `could not fetch ${this.location}/${path} (offline, and not cached yet?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok) {
      throw new AgqgError(
        'pack_file_missing',
        `${this.location}/${path}: the server answered ${res.status} ${res.statusText}`,
      );
    }
    if (isHtmlFallback(res, path)) return null;
    return res;
  }

  async readBytes(path: string): Promise<Uint8Array | null> {
    const kept = this.fetched.get(path);
    if (kept) {
      this.fetched.delete(path);
      return kept;
    }
    const res = await this.get(path, 'GET');
    if (!res) return null;
    return new Uint8Array(await res.arrayBuffer());
  }

  async size(path: string): Promise<number | null> {
    if (this.fetched.has(path)) return this.fetched.get(path)!.byteLength;
    const head = await this.get(path, 'HEAD').catch(() => undefined);
    if (head === null) return null;
    const length = head?.headers.get('content-length');
    // A compressed transfer reports the compressed length; only an identity length is the file's size.
    if (head && length !== null && length !== undefined && !head.headers.get('content-encoding')) {
      const n = Number(length);
      if (Number.isInteger(n) && n >= 0) return n;
    }
    const bytes = await this.readBytes(path);
    if (bytes === null) return null;
    // Small files (configs, manifests) are read next anyway; large ones would double memory, so drop them.
    if (bytes.byteLength <= 16 * 1024 * 1024) this.fetched.set(path, bytes);
    return bytes.byteLength;
  }
}

export interface LocalFile {
  /** Relative path inside the picked folder, forward slashes. */
  path: string;
  file: File;
}

/** The files' common top folder when the pack root is inside it (webkitdirectory includes the folder name). */
function commonRoot(files: readonly LocalFile[]): string {
  const paths = files.map((f) => f.path.replace(/^\.?\/+/, ''));
  const rootHas = (name: string) => paths.includes(name);
  if (rootHas(MANIFEST_FILE) || rootHas('config.json')) return '';
  const first = paths[0]?.split('/')[0];
  if (!first || !paths.every((p) => p.startsWith(`${first}/`))) return '';
  return `${first}/`;
}

export class LocalFolderPackSource implements PackSource {
  readonly location: string;
  private readonly byPath = new Map<string, File>();

  constructor(files: readonly LocalFile[], label?: string) {
    if (files.length === 0) throw new AgqgError('pack_invalid', 'the chosen folder has no files');
    const root = commonRoot(files);
    for (const { path, file } of files) {
      const rel = path.replace(/^\.?\/+/, '').slice(root.length);
      if (rel) this.byPath.set(rel, file);
    }
    this.location = `local folder "${label ?? (root.replace(/\/$/, '') || 'pack')}"`;
  }

  /** Name of the folder, a fallback pack id for folders without manifest.json. */
  get folderName(): string {
    const m = /"(.*)"/.exec(this.location);
    return (m?.[1] ?? 'local').replace(/[^a-z0-9._-]+/gi, '-').replace(/^[^a-z0-9]+/i, '') || 'local';
  }

  async readBytes(path: string): Promise<Uint8Array | null> {
    const file = this.byPath.get(path);
    if (!file) return null;
    try {
      return new Uint8Array(await file.arrayBuffer());
    } catch (err) {
      throw new AgqgError(
        'pack_file_missing',
        `${this.location}/${path} could not be read: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async size(path: string): Promise<number | null> {
    return this.byPath.get(path)?.size ?? null;
  }
}

/** Records which files a pack was actually read from, and reports each read. */
export class TrackingSource implements PackSource {
  readonly read = new Set<string>();
  constructor(
    readonly inner: PackSource,
    private readonly onRead: (path: string, bytes: number) => void,
  ) {}
  get location(): string {
    return this.inner.location;
  }
  async readBytes(path: string): Promise<Uint8Array | null> {
    const bytes = await this.inner.readBytes(path);
    if (bytes) {
      this.read.add(path);
      this.onRead(path, bytes.byteLength);
    }
    return bytes;
  }
  size(path: string): Promise<number | null> {
    return this.inner.size(path);
  }
}
