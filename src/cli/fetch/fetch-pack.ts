// Fetches a Hugging Face CLIP export into a pack folder. Everything is staged
// in a sibling folder ".<name>.partial" (so an interrupted run never leaves
// config.json + onnx files under the final name, which openPack would take for
// a complete pack), each file verified on arrival, manifest.json written last
// in the staging folder, and the folder renamed into place as the final step.
// A re-run re-checks what is staged and resumes any .part file.
import { copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { AgqgError } from '../../model/errors.ts';
import { MANIFEST_FILE, parseManifest, type Manifest, type VariantDtype } from '../../model/pack/manifest.ts';
import type { CliIO } from '../io.ts';
import { formatBytes } from './byte-progress.ts';
import { planFiles, type ModelSpec } from './catalog.ts';
import { downloadVerified, gitBlobOid, type DownloadResult } from './download.ts';
import { buildManifest } from './fetched-manifest.ts';
import { HubClient, type FetchFn } from './hub.ts';
import { exists, listFilesUnder, readJsonFile, sha256File, writeAtomic } from './local-files.ts';
import { upsertIndexEntry } from './models-index.ts';
import { cancelled, checkEncoders, remoteFiles } from './remote-files.ts';

/** Provenance record next to the manifest (not a pack file): what was fetched from where. */
export const FETCH_RECORD_FILE = '.fetch.json';
/** In the staging folder: which repo and commit its files belong to. */
const STATE_FILE = '.fetch-state.json';

export const DEFAULT_BASE_URL = 'https://huggingface.co';
export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_DELAY_MS = 1000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface FetchPackOptions {
  /** Pack id (the folder name the page loads it by). */
  id: string;
  spec: ModelSpec;
  variants: readonly VariantDtype[];
  baseUrl: string;
  outDir: string;
  /** models index to list the pack in, or null. */
  indexFile: string | null;
  /** Replace a folder that fetch did not make, and re-download a pack that is up to date. */
  force: boolean;
  io: CliIO;
  fetch?: FetchFn;
  retries?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface FetchPackResult {
  packDir: string;
  manifest: Manifest;
  commit: string;
  /** Files downloaded in this run (not those already staged or already in place). */
  downloads: DownloadResult[];
  /** Optional files the repo does not have. */
  skipped: string[];
  upToDate: boolean;
  bytesDownloaded: number;
}

const FetchRecordSchema = z.object({
  repo: z.string(),
  revision: z.string(),
  commit: z.string(),
  baseUrl: z.string(),
  fetchedAt: z.string(),
  variants: z.array(z.string()),
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string() })),
});
type FetchRecord = z.infer<typeof FetchRecordSchema>;

const StateSchema = z.object({ repo: z.string(), commit: z.string(), baseUrl: z.string() });

async function verifyInPlace(dir: string, record: FetchRecord): Promise<boolean> {
  for (const f of record.files) {
    const got = await sha256File(join(dir, f.path));
    if (!got || got.sha256 !== f.sha256 || got.size !== f.size) return false;
  }
  return (await readJsonFile(join(dir, MANIFEST_FILE))) !== null;
}

export async function fetchPack(opts: FetchPackOptions): Promise<FetchPackResult> {
  const { io, spec, signal } = opts;
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(opts.id)) {
    throw new AgqgError(
      'invalid_argument',
      `"${opts.id}" cannot name a pack: letters, digits, ".", "_" and "-" only`,
    );
  }
  const fetchFn = opts.fetch ?? fetch;
  const out = resolve(opts.outDir);
  const staging = join(dirname(out), `.${basename(out)}.partial`);
  const replaced = join(dirname(out), `.${basename(out)}.replaced`);
  const t0 = performance.now();

  const outEntries = (await stat(out).catch(() => null))?.isDirectory() ? await readdir(out) : null;
  if ((await exists(out)) && outEntries === null)
    throw new AgqgError('invalid_argument', `${out} is a file, not a folder`);
  const previous = outEntries
    ? FetchRecordSchema.safeParse(await readJsonFile(join(out, FETCH_RECORD_FILE)))
    : null;
  if (outEntries && outEntries.length > 0 && !previous?.success && !opts.force) {
    throw new AgqgError(
      'invalid_argument',
      `${out} already exists and was not made by agqg fetch; pass --force to replace it, or --out another folder`,
    );
  }

  const hub = new HubClient(opts.baseUrl, spec.repo, fetchFn, signal);
  const commit = (await hub.resolveCommit(spec.revision)) ?? spec.revision;
  io.err(
    `${spec.repo} at ${spec.revision}${commit !== spec.revision ? ` (commit ${commit})` : ''} from ${hub.base}\n`,
  );

  const variants = [...opts.variants];
  const sameSet = (r: FetchRecord): boolean =>
    r.repo === spec.repo &&
    r.commit === commit &&
    r.baseUrl === hub.base &&
    [...r.variants].sort().join() === [...variants].sort().join();
  if (
    previous?.success &&
    sameSet(previous.data) &&
    !opts.force &&
    (await verifyInPlace(out, previous.data))
  ) {
    io.err(`${out} is up to date (every file matches its SHA-256); --force downloads it again\n`);
    const manifest = parseManifest(await readJsonFile(join(out, MANIFEST_FILE)), join(out, MANIFEST_FILE));
    if (opts.indexFile)
      await upsertIndexEntry(opts.indexFile, {
        id: opts.id,
        name: manifest.name,
        description: manifest.description,
      });
    return { packDir: out, manifest, commit, downloads: [], skipped: [], upToDate: true, bytesDownloaded: 0 };
  }

  const plan = planFiles(spec, variants);
  const { found, skipped, listed } = await remoteFiles(hub, commit, plan, signal);
  checkEncoders(spec, plan, (p) => found.has(p), listed, spec.repo);

  // Staging: files of another repo or commit are of no use here.
  const state = StateSchema.safeParse(await readJsonFile(join(staging, STATE_FILE)));
  if (
    state.success &&
    (state.data.repo !== spec.repo || state.data.commit !== commit || state.data.baseUrl !== hub.base)
  ) {
    io.err(`${staging} holds files of ${state.data.repo} at ${state.data.commit}; starting over\n`);
    await rm(staging, { recursive: true, force: true });
  }
  await mkdir(staging, { recursive: true });
  await writeAtomic(
    join(staging, STATE_FILE),
    JSON.stringify({ repo: spec.repo, commit, baseUrl: hub.base }),
  );

  // Files the pack in place already has with the right hash need no download (--force downloads all).
  if (previous?.success && !opts.force) {
    for (const f of previous.data.files) {
      const remote = found.get(f.path);
      const dest = join(staging, f.path);
      if (!remote || remote.sha256 !== f.sha256 || (await exists(dest))) continue;
      await mkdir(dirname(dest), { recursive: true });
      await link(join(out, f.path), dest).catch(() =>
        copyFile(join(out, f.path), dest).catch(() => undefined),
      );
    }
  }

  const downloads: DownloadResult[] = [];
  const hashes = new Map<string, { size: number; sha256: string }>();
  for (const f of plan) {
    const remote = found.get(f.path);
    if (!remote) continue;
    cancelled(signal);
    const dest = join(staging, f.path);
    await mkdir(dirname(dest), { recursive: true });
    const staged = await sha256File(dest);
    if (staged) {
      const ok =
        (remote.size === undefined || staged.size === remote.size) &&
        (remote.sha256 !== undefined
          ? staged.sha256 === remote.sha256
          : remote.gitOid === undefined || (await gitBlobOid(dest, staged.size)) === remote.gitOid);
      if (ok) {
        const how = remote.sha256
          ? 'SHA-256 matches'
          : remote.gitOid
            ? 'git blob id matches'
            : 'size matches';
        io.err(`${f.path}: already here, ${formatBytes(staged.size)}, ${how}\n`);
        hashes.set(f.path, staged);
        continue;
      }
      await rm(dest, { force: true });
    }
    const got = await downloadVerified(remote, hub.resolveUrl(commit, f.path), dest, {
      fetch: fetchFn,
      io,
      retries: opts.retries ?? DEFAULT_RETRIES,
      retryDelayMs: opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      signal,
    });
    if (got === null) {
      if (f.required)
        throw new AgqgError(
          'pack_file_missing',
          `${hub.resolveUrl(commit, f.path)} answered 404; the pack needs ${f.path}`,
        );
      io.err(`${f.path}: not on the server (404); skipped, it is optional\n`);
      found.delete(f.path);
      skipped.push(f.path);
      continue;
    }
    downloads.push(got);
    hashes.set(f.path, got);
  }
  checkEncoders(spec, plan, (p) => hashes.has(p), listed, spec.repo);

  // Anything else staged (other formats from an earlier run) would be picked up as a variant.
  for (const path of await listFilesUnder(staging)) {
    if (path !== STATE_FILE && !hashes.has(path)) await rm(join(staging, path), { force: true });
  }

  const manifest = await buildManifest(opts, staging, hashes, hub, commit);
  const record: FetchRecord = {
    repo: spec.repo,
    revision: spec.revision,
    commit,
    baseUrl: hub.base,
    fetchedAt: (opts.now?.() ?? new Date()).toISOString(),
    variants,
    files: [...hashes].map(([path, h]) => ({ path, size: h.size, sha256: h.sha256 })),
  };
  await writeAtomic(join(staging, FETCH_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  await rm(join(staging, STATE_FILE), { force: true });
  await writeAtomic(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

  // The one step that makes the pack appear: a rename of the whole folder.
  cancelled(signal);
  await rm(replaced, { recursive: true, force: true });
  await mkdir(dirname(out), { recursive: true });
  if (outEntries) await rename(out, replaced);
  await rename(staging, out);
  await rm(replaced, { recursive: true, force: true });

  if (opts.indexFile)
    await upsertIndexEntry(opts.indexFile, {
      id: opts.id,
      name: manifest.name,
      description: manifest.description,
    });
  const bytesDownloaded = downloads.reduce((s, d) => s + d.size - d.resumedFrom, 0);
  const total = [...hashes.values()].reduce((s, h) => s + h.size, 0);
  const secs = (performance.now() - t0) / 1000;
  io.err(
    `${out}: pack "${opts.id}" ready, ${hashes.size} files, ${formatBytes(total)} ` +
      `(${formatBytes(bytesDownloaded)} downloaded in ${secs.toFixed(1)} s)` +
      (skipped.length ? `; not in the repo: ${skipped.join(', ')}` : '') +
      '\n',
  );
  return { packDir: out, manifest, commit, downloads, skipped, upToDate: false, bytesDownloaded };
}
