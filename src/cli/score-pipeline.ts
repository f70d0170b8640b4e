// The scoring loop of `agqg score`: files are read and decoded ahead of the
// encoder (on decode workers when the reader has them) into a bounded window,
// scored `batch` at a time with one encoder run per batch, and handed back in
// input order as soon as their batch is done. Memory holds at most the batch
// being scored and the one being decoded, whatever the number of files; jobs
// may come from a stream (a shard's samples), pulled only as the window needs.
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
  /** The image's bytes when they do not come from `file` on disk (a shard's member). */
  bytes?: Uint8Array;
  /** Why the job has no image to read (a bad shard sample): it becomes an error result as it is. */
  error?: unknown;
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

/** Called once per job, in input order; `stages` is null when the file could not be read. */
export type OnScored<J extends ScoreJob = ScoreJob> = (
  result: ImageResult,
  index: number,
  stages: ReadStages | null,
  job: J,
) => void;

type Settled = { ok: true; file: DecodedFile } | { ok: false; error: unknown };

const settle = (p: Promise<DecodedFile>): Promise<Settled> =>
  p.then(
    (file): Settled => ({ ok: true, file }),
    (error: unknown): Settled => ({ ok: false, error }),
  );

export async function scoreFiles<J extends ScoreJob>(
  scorer: PackScorer,
  jobs: Iterable<J> | AsyncIterable<J>,
  opts: ScorePipelineOptions,
  onScored: OnScored<J>,
): Promise<void> {
  const batch = opts.batch;
  const lookahead = opts.lookahead ?? batch;
  const firstRun = Math.max(1, Math.min(batch, opts.firstRun ?? FIRST_RUN_IMAGES));
  const source: Iterator<J> | AsyncIterator<J> =
    Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : jobs[Symbol.iterator]();
  // Jobs taken from the source and their reads, by index, dropped as soon as their batch takes
  // them, so nothing piles up.
  const taken = new Map<number, { job: J; read: Promise<Settled> }>();
  let started = 0;
  let exhausted = false;
  const startUpTo = async (end: number): Promise<void> => {
    while (!exhausted && started < end) {
      const next = await source.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const job = next.value;
      const read =
        job.error !== undefined
          ? Promise.resolve<Settled>({ ok: false, error: job.error })
          : settle(opts.reader.read(job.file, job.bytes));
      taken.set(started++, { job, read });
    }
  };
  try {
    for (let b0 = 0, b1 = 0; ; b0 = b1) {
      // This batch and the next: the next decodes while this one is in the encoder.
      await startUpTo(b0 + (b0 === 0 ? firstRun : batch) + lookahead);
      b1 = Math.min(started, b0 + (b0 === 0 ? firstRun : batch));
      if (b1 <= b0) break;
      const got: { job: J; s: Settled }[] = [];
      for (let i = b0; i < b1; i++) {
        const t = taken.get(i) as { job: J; read: Promise<Settled> };
        got.push({ job: t.job, s: await t.read });
        taken.delete(i);
      }
      const items: ScoreItem[] = [];
      const slots: (ImageResult | number)[] = got.map(({ job, s }) => {
        if (!s.ok) return failedResult(job.file, scorer.manifest.id, job.prompt, s.error, scorer.backend);
        // Preprocessing done with decoding is counted in the prepared image's preprocessMs.
        const { readMs, decodeMs } = s.file.stages;
        items.push({ img: s.file.img, file: job.file, prompt: job.prompt, decodeMs: readMs + decodeMs });
        return items.length - 1;
      });
      const scored = items.length > 0 ? await scorer.scoreImages(items) : [];
      slots.forEach((slot, k) => {
        const { job, s } = got[k];
        onScored(typeof slot === 'number' ? scored[slot] : slot, b0 + k, s.ok ? s.file.stages : null, job);
      });
    }
  } finally {
    // A stream left early (an error from the encoder or from onScored) is closed, so its file is.
    if (!exhausted) await source.return?.();
  }
}
