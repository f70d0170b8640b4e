// What the repo offers of the planned files, before anything is downloaded:
// sizes and hashes from its tree (or one probe per file), and a clear error when
// a required file or every asked weight format of an encoder is missing.
import { AgqgError } from '../../model/errors.ts';
import type { ModelSpec, PlannedFile } from './catalog.ts';
import type { HubClient, RemoteFile } from './hub.ts';

/** Throws 'cancelled' once the signal is aborted: checked before each file and before the final rename. */
export function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AgqgError('cancelled', 'the fetch was cancelled', { cause: signal.reason });
}

/** Which planned files the repo has, with their sizes and hashes; fails early on a missing required file. */
export async function remoteFiles(
  hub: HubClient,
  commit: string,
  plan: PlannedFile[],
  signal: AbortSignal | undefined,
): Promise<{ found: Map<string, RemoteFile>; skipped: string[]; listed: string[] | null }> {
  const tree = await hub.listTree(commit);
  const found = new Map<string, RemoteFile>();
  const skipped: string[] = [];
  for (const f of plan) {
    cancelled(signal);
    const remote = tree ? (tree.get(f.path) ?? null) : await hub.probe(commit, f.path);
    if (remote) found.set(f.path, remote);
    else if (f.required) {
      throw new AgqgError(
        'pack_file_missing',
        `${hub.repo} at ${commit} has no ${f.path}, which the pack needs (${hub.resolveUrl(commit, f.path)})`,
      );
    } else skipped.push(f.path);
  }
  return { found, skipped, listed: tree ? [...tree.keys()] : null };
}

export function checkEncoders(
  spec: ModelSpec,
  plan: PlannedFile[],
  have: (path: string) => boolean,
  listed: string[] | null,
  repo: string,
): void {
  for (const encoder of spec.encoders) {
    const mine = plan.filter((f) => f.encoder === encoder);
    if (mine.some((f) => have(f.path))) continue;
    const available = listed?.filter((p) => p.startsWith(`onnx/${encoder}`) && p.endsWith('.onnx'));
    throw new AgqgError(
      'pack_file_missing',
      `${repo} has none of the asked weight formats (${mine.map((f) => f.dtype).join(', ')}) of onnx/${encoder}.onnx` +
        (available ? `; it has: ${available.join(', ') || 'none'}` : ''),
    );
  }
}
