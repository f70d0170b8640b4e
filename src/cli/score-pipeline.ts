// The scoring loop of `agqg score`: files are read and decoded ahead of the
// encoder (on decode workers when the reader has them) into a bounded window,
// scored `batch` at a time with one encoder run per batch, and handed back in
// input order as soon as their batch is done. Memory holds at most the batch
// being scored and the one being decoded, whatever the number of files.
//
// The first run is short: nothing can overlap the wait for its images to decode,
// so it takes only the first few, and the workers decode the first full batch
// while it runs (bench/node-vs-ort.ts measures what that gives).
import type { ImageResult } from '../model/grading/result.ts';
import { failedResult, type PackScorer, type ScoreItem } from '../model/scoring/scorer.ts';
import type { DecodedFile, ImageReader, ReadStages } from './image-reader.ts';

export interface ScoreJob {
  file: string;
  prompt: string | null;
}

export interface ScorePipelineOptions {
  /** Images per encoder run (1 = one run per image). */
  batch: number;
  reader: ImageReader;
  /** Files read ahead of the batch being scored; default: one more batch. */
  lookahead?: number;
  /** Images in the first encoder run (capped by `batch`); default FIRST_RUN_IMAGES. */
  firstRun?: number;
}

/**
 * Images in the first encoder run. Nothing overlaps the wait for its images to decode, so it
 * is kept to a couple of decodes per worker (with two workers, instead of `batch`/2 each);
 * the workers decode the first full batch while it runs.
 */
export const FIRST_RUN_IMAGES = 4;

/** Called once per file, in input order; `stages` is null when the file could not be read. */
export type OnScored = (result: ImageResult, index: number, stages: ReadStages | null) => void;

type Settled = { ok: true; file: DecodedFile } | { ok: false; error: unknown };

const settle = (p: Promise<DecodedFile>): Promise<Settled> =>
  p.then(
    (file): Settled => ({ ok: true, file }),
    (error: unknown): Settled => ({ ok: false, error }),
  );

export async function scoreFiles(
  scorer: PackScorer,
  jobs: readonly ScoreJob[],
  opts: ScorePipelineOptions,
  onScored: OnScored,
): Promise<void> {
  const batch = opts.batch;
  const lookahead = opts.lookahead ?? batch;
  const firstRun = Math.max(1, Math.min(batch, opts.firstRun ?? FIRST_RUN_IMAGES));
  const n = jobs.length;
  // Read promises by index, dropped as soon as their batch takes them, so nothing piles up.
  const reads = new Map<number, Promise<Settled>>();
  let started = 0;
  const startUpTo = (end: number): void => {
    for (; started < Math.min(end, n); started++)
      reads.set(started, settle(opts.reader.read(jobs[started].file)));
  };
  for (let b0 = 0, b1 = 0; b0 < n; b0 = b1) {
    b1 = Math.min(n, b0 + (b0 === 0 ? firstRun : batch));
    // This batch and the next: the next decodes while this one is in the encoder.
    startUpTo(b1 + lookahead);
    const got: Settled[] = [];
    for (let i = b0; i < b1; i++) {
      got.push(await (reads.get(i) as Promise<Settled>));
      reads.delete(i);
    }
    const items: ScoreItem[] = [];
    const slots: (ImageResult | number)[] = got.map((s, k) => {
      const job = jobs[b0 + k];
      if (!s.ok) return failedResult(job.file, scorer.manifest.id, job.prompt, s.error, scorer.backend);
      // Preprocessing done with decoding is counted in the prepared image's preprocessMs.
      const { readMs, decodeMs } = s.file.stages;
      items.push({ img: s.file.img, file: job.file, prompt: job.prompt, decodeMs: readMs + decodeMs });
      return items.length - 1;
    });
    const scored = items.length > 0 ? await scorer.scoreImages(items) : [];
    slots.forEach((slot, k) => {
      const s = got[k];
      onScored(typeof slot === 'number' ? scored[slot] : slot, b0 + k, s.ok ? s.file.stages : null);
    });
  }
}
