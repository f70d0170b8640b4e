// The few Hugging Face hub endpoints a fetch needs, against any mirror:
//   GET {base}/api/models/{repo}/revision/{rev}          -> {sha}: pins the commit
//   GET {base}/api/models/{repo}/tree/{rev}?recursive=true -> [{type, path, size, oid, lfs?: {oid, size}}]
//       (paginated with a Link: <...>; rel="next" header)
//   GET {base}/{repo}/resolve/{rev}/{path}              -> the bytes (LFS files redirect to a CDN;
//       X-Linked-Size / X-Linked-Etag on that redirect give size and SHA-256)
// For LFS files lfs.oid is the SHA-256 of the content; for plain git files oid
// is the git blob id (SHA-1 of "blob <size>\0" + content), also checkable.
import { z } from 'zod';
import { AgqgError } from '../../model/errors.ts';

export interface RemoteFile {
  path: string;
  size: number | undefined;
  sha256: string | undefined;
  /** Git blob id of a plain (non-LFS) file. */
  gitOid: string | undefined;
}

const TreeEntrySchema = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative().optional(),
  oid: z.string().optional(),
  lfs: z
    .object({
      oid: z.string().optional(),
      sha256: z.string().optional(),
      size: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;

function sha256Of(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.replace(/^sha256:/, '').toLowerCase();
  return HEX64.test(v) ? v : undefined;
}

/** ETag values come quoted and sometimes weak (W/"..."). */
function unquoteEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  return value.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return new URL(m[1], current).href;
  }
  return undefined;
}

export type FetchFn = typeof fetch;

export class HubClient {
  readonly base: string;
  constructor(
    base: string,
    readonly repo: string,
    private readonly fetchFn: FetchFn = fetch,
    private readonly signal?: AbortSignal,
  ) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new AgqgError('invalid_argument', `--base-url "${base}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AgqgError('invalid_argument', `--base-url must be http(s) (got "${base}")`);
    }
    this.base = url.href.replace(/\/+$/, '');
  }

  private apiUrl(rest: string): string {
    return `${this.base}/api/models/${this.repo}/${rest}`;
  }

  resolveUrl(revision: string, path: string): string {
    const file = path.split('/').map(encodeURIComponent).join('/');
    return `${this.base}/${this.repo}/resolve/${encodeURIComponent(revision)}/${file}`;
  }

  private async get(url: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await this.fetchFn(url, { ...init, signal: this.signal });
    } catch (err) {
      if (this.signal?.aborted) throw new AgqgError('cancelled', 'the fetch was cancelled', { cause: err });
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new AgqgError(
        'pack_file_missing',
        `cannot reach ${url}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`,
        {
          cause: err,
        },
      );
    }
  }

  private refuse(res: Response, url: string, what: string): never {
    if (res.status === 401 || res.status === 403) {
      throw new AgqgError(
        'pack_file_missing',
        `${url} answered ${res.status}: ${this.repo} does not exist on ${this.base} or needs a login (gated and private repos are not supported)`,
      );
    }
    throw new AgqgError('pack_file_missing', `${what}: ${url} answered ${res.status} ${res.statusText}`);
  }

  /** The commit a branch or tag points at now, or null when the mirror has no such API. */
  async resolveCommit(revision: string): Promise<string | null> {
    if (HEX40.test(revision)) return revision;
    const url = this.apiUrl(`revision/${encodeURIComponent(revision)}`);
    const res = await this.get(url, { headers: { accept: 'application/json' } });
    if (res.status === 404) return null;
    if (!res.ok) this.refuse(res, url, 'revision lookup');
    const body = z.object({ sha: z.string().regex(HEX40) }).safeParse(await res.json().catch(() => null));
    return body.success ? body.data.sha : null;
  }

  /** Every file at the revision with size and hash, or null when the mirror has no tree API. */
  async listTree(revision: string): Promise<Map<string, RemoteFile> | null> {
    const files = new Map<string, RemoteFile>();
    let url: string | undefined = `${this.apiUrl(`tree/${encodeURIComponent(revision)}`)}?recursive=true`;
    let first = true;
    while (url) {
      const res = await this.get(url, { headers: { accept: 'application/json' } });
      if (res.status === 404 && first) return null;
      if (!res.ok) this.refuse(res, url, 'file listing');
      const parsed = z.array(TreeEntrySchema).safeParse(await res.json().catch(() => null));
      if (!parsed.success) {
        throw new AgqgError(
          'pack_file_missing',
          `${url} did not answer with a file listing: ${parsed.error.message}`,
        );
      }
      for (const e of parsed.data) {
        if (e.type !== 'file') continue;
        const lfsSha = sha256Of(e.lfs?.sha256) ?? sha256Of(e.lfs?.oid);
        files.set(e.path, {
          path: e.path,
          size: e.lfs?.size ?? e.size,
          sha256: lfsSha,
          gitOid: !e.lfs && e.oid && HEX40.test(e.oid) ? e.oid : undefined,
        });
      }
      url = nextLink(res.headers.get('link'), url);
      first = false;
    }
    return files;
  }

  /**
   * Size and hash from the resolve endpoint's headers, for mirrors without the
   * tree API; null on 404. The redirect is not followed: its X-Linked-* headers
   * describe the LFS file itself.
   */
  async probe(revision: string, path: string): Promise<RemoteFile | null> {
    const url = this.resolveUrl(revision, path);
    const res = await this.get(url, { method: 'HEAD', redirect: 'manual' });
    if (res.status === 404 || res.status === 410) return null;
    if (res.status >= 400) this.refuse(res, url, path);
    const linkedSize = res.headers.get('x-linked-size');
    const length = res.status >= 300 ? null : res.headers.get('content-length');
    const sizeText = linkedSize ?? length;
    const size = sizeText !== null && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
    const linked = unquoteEtag(res.headers.get('x-linked-etag'));
    const etag = unquoteEtag(res.headers.get('etag'));
    return {
      path,
      size,
      sha256: sha256Of(linked) ?? (linked === undefined ? sha256Of(etag) : undefined),
      gitOid: linked === undefined && etag && HEX40.test(etag) ? etag : undefined,
    };
  }
}
