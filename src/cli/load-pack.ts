// Opening a pack folder for a command, with the folder checked first so a typo
// reads "does not exist" rather than "is not a pack".
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AgqgError } from '../model/errors.ts';
import type { VariantDtype } from '../model/pack/manifest.ts';
import type { OpenedPack } from '../model/pack/pack.ts';
import { PackScorer } from '../model/scoring/scorer.ts';
import type { CliIO } from './io.ts';
import { openPackDir } from './node-pack-source.ts';
import { NodeRuntime } from './ort-node.ts';

export async function openPackFolder(dir: string): Promise<OpenedPack> {
  const abs = resolve(dir);
  const s = await stat(abs).catch(() => null);
  if (!s) throw new AgqgError('pack_invalid', `pack folder ${abs} does not exist`);
  if (!s.isDirectory())
    throw new AgqgError('pack_invalid', `${abs} is a file; --pack takes the pack's folder`);
  return openPackDir(abs);
}

export async function loadScorer(
  dir: string,
  io: CliIO,
  opts: { variant?: VariantDtype; verbose?: boolean; threads?: number } = {},
): Promise<PackScorer> {
  const pack = await openPackFolder(dir);
  const scorer = await PackScorer.load(pack, new NodeRuntime(opts.threads), { variant: opts.variant });
  if (opts.verbose !== false && pack.manifest.provenance.inferred) {
    io.err(
      `note: ${pack.source.location} has no manifest.json; using it as a Hugging Face CLIP export with zero-shot heads (uncalibrated: not fitted to human scores)\n`,
    );
  }
  return scorer;
}

/** Why a pack cannot grade at all, or null when it has at least one head. */
export function noHeadMessage(scorer: PackScorer): string | null {
  if (scorer.hasQualityHead || scorer.hasAlignmentHead) return null;
  const m = scorer.manifest;
  const why = m.text
    ? 'its manifest lists no heads'
    : 'it has no text encoder, so no zero-shot heads, and its manifest lists no trained head';
  return `pack ${m.id} has no quality head (${why}); train one with \`agqg train\` or use a CLIP pack with a text encoder`;
}
