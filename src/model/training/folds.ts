// Prompt-grouped K-fold assignment: every image of a prompt lands in the same
// fold (images of one prompt from different generators are strongly related,
// so an image-level split leaks), and the split depends only on the seed.
import { AgqgError } from '../errors.ts';
import { mulberry32, shuffleInPlace } from '../util/rng.ts';

/** fold[i] in 0..k-1 for each item, grouped by `groups[i]`. */
export function groupedFolds(groups: readonly string[], k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2)
    throw new AgqgError('internal', `folds: K must be an integer >= 2, got ${k}`);
  const unique = [...new Set(groups)].sort();
  if (unique.length < k) {
    throw new AgqgError('internal', `folds: ${unique.length} prompts cannot fill ${k} folds`);
  }
  shuffleInPlace(unique, mulberry32(seed));
  const foldOf = new Map<string, number>();
  unique.forEach((g, i) => foldOf.set(g, i % k));
  return Int32Array.from(groups, (g) => foldOf.get(g) as number);
}

export function foldIndices(folds: Int32Array, fold: number): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  folds.forEach((f, i) => (f === fold ? test : train).push(i));
  return { train, test };
}
