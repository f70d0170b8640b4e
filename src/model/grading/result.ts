// The one result format for a graded image: CLI JSON/CSV output and the page's
// export all go through these schemas, so a file written by one can be read by
// the other.
import { z } from 'zod';
import { AgqgError, ERROR_CODES } from '../errors.ts';
import {
  expectedGrade,
  gradeProbs,
  mostLikelyGrade,
  thresholds as grmThresholds,
  toMos,
  type GrmParams,
  type MosScale,
} from './grm.ts';

/** Slack for probabilities that went through another tool's float formatting. */
const PROB_SUM_TOLERANCE = 1e-6;

export const GradeResultSchema = z
  .object({
    /** Expected grade mapped to the dataset's MOS scale. */
    score: z.number(),
    /** sum k p_k with grades 1..K. */
    expectedGrade: z.number(),
    /** Label of the most probable grade. */
    grade: z.string().min(1),
    /** 0-based index of the most probable grade. */
    gradeIndex: z.number().int().nonnegative(),
    /** GRM ability theta. */
    ability: z.number(),
    thresholds: z.array(z.number()),
    /** GRM discrimination a. */
    discrimination: z.number().positive(),
    probabilities: z.array(z.number().min(0).max(1)),
    labels: z.array(z.string().min(1)).min(2),
    /** True when the head was not calibrated against human MOS for this pack. */
    uncalibrated: z.boolean(),
  })
  .superRefine((g, ctx) => {
    const K = g.labels.length;
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (g.probabilities.length !== K) {
      issue('probabilities', `has ${g.probabilities.length} entries for ${K} grade labels`);
      return;
    }
    if (g.thresholds.length !== K - 1)
      issue('thresholds', `has ${g.thresholds.length} entries, expected ${K - 1}`);
    for (let k = 1; k < g.thresholds.length; k++) {
      if (!(g.thresholds[k] > g.thresholds[k - 1])) issue('thresholds', 'must be strictly increasing');
    }
    const total = g.probabilities.reduce((s, p) => s + p, 0);
    if (Math.abs(total - 1) > PROB_SUM_TOLERANCE) issue('probabilities', `sum to ${total}, not 1`);
    if (g.gradeIndex >= K) {
      issue('gradeIndex', `${g.gradeIndex} is out of range for ${K} grades`);
    } else {
      if (g.grade !== g.labels[g.gradeIndex]) issue('grade', `"${g.grade}" is not labels[${g.gradeIndex}]`);
      if (g.probabilities.some((p) => p > g.probabilities[g.gradeIndex] + PROB_SUM_TOLERANCE)) {
        issue('gradeIndex', 'does not point at the most probable grade');
      }
    }
    if (g.expectedGrade < 1 - PROB_SUM_TOLERANCE || g.expectedGrade > K + PROB_SUM_TOLERANCE) {
      issue('expectedGrade', `${g.expectedGrade} is outside [1, ${K}]`);
    }
  });

export type GradeResult = z.infer<typeof GradeResultSchema>;

const durationMs = z.number().nonnegative().optional();

export const ImageResultSchema = z.object({
  file: z.string().min(1),
  packId: z.string().min(1),
  prompt: z.string().nullable(),
  quality: GradeResultSchema.nullable(),
  alignment: GradeResultSchema.nullable(),
  /**
   * Why quality is null when the image itself was fine (e.g. the pack has no quality head), or,
   * with a grade, why that grade says little (an image too small or of a single colour).
   */
  qualityNote: z.string().nullable().default(null),
  /** Why alignment is null or qualified (no text encoder, empty prompt, truncated prompt, ...). */
  alignmentNote: z.string().nullable(),
  /** A prompt problem that stopped alignment only (e.g. prompt_too_long); quality is still graded. */
  alignmentError: z
    .object({ code: z.enum(ERROR_CODES), message: z.string() })
    .nullable()
    .default(null),
  /** Stages that did not run (e.g. after a decode error) are absent. */
  timings: z.object({
    decodeMs: durationMs,
    preprocessMs: durationMs,
    /** Encoder, text encoder and heads together. */
    inferenceMs: durationMs,
    /** The image encoder alone; in a batch, this image's share of the run. */
    encoderMs: durationMs,
    /** The text encoder for the prompt (0 when its embedding was cached). */
    textMs: durationMs,
    /** The quality and alignment heads. */
    headMs: durationMs,
    totalMs: durationMs,
  }),
  backend: z.string().nullable(),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).nullable(),
});

export type ImageResult = z.infer<typeof ImageResultSchema>;

export const ResultsFileSchema = z.object({
  schema: z.literal('agqg-results'),
  version: z.literal(1),
  createdAt: z.iso.datetime(),
  pack: z.object({ id: z.string().min(1), name: z.string(), version: z.string() }),
  results: z.array(ImageResultSchema),
});

export type ResultsFile = z.infer<typeof ResultsFileSchema>;

/** Builds the GradeResult of one head from its predicted ability. */
export function gradeResultFromAbility(
  theta: number,
  params: GrmParams,
  labels: readonly string[],
  mosScale: MosScale,
  uncalibrated: boolean,
): GradeResult {
  const K = labels.length;
  const probabilities = gradeProbs(theta, params, K);
  const expected = expectedGrade(probabilities);
  const gradeIndex = mostLikelyGrade(probabilities);
  const candidate: GradeResult = {
    score: toMos(expected, K, mosScale),
    expectedGrade: expected,
    grade: labels[gradeIndex],
    gradeIndex,
    ability: theta,
    thresholds: grmThresholds(params, K),
    discrimination: params.a,
    probabilities,
    labels: [...labels],
    uncalibrated,
  };
  const parsed = GradeResultSchema.safeParse(candidate);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AgqgError('internal', `grade result is inconsistent: ${first.path.join('.')} ${first.message}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------
// CSV

/**
 * Spreadsheets evaluate a cell that starts with one of these (OWASP "CSV
 * injection"); tab and CR are included because some apps strip them first.
 */
const FORMULA_TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];

function textCell(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  const guarded = FORMULA_TRIGGERS.some((t) => v.startsWith(t)) ? `'${v}` : v;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** Numbers are written in full (round-trippable) precision and never guarded: -1.5 must stay numeric. */
function numberCell(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

function headColumns(prefix: string, grades: number): string[] {
  const probs = Array.from({ length: grades }, (_, k) => `${prefix}_p${k + 1}`);
  return [`${prefix}_score`, `${prefix}_grade`, `${prefix}_ability`, ...probs];
}

function headCells(g: GradeResult | null, grades: number): string[] {
  const probs = Array.from({ length: grades }, (_, k) => numberCell(g?.probabilities[k]));
  return [numberCell(g?.score), textCell(g?.grade), numberCell(g?.ability), ...probs];
}

export interface CsvOptions {
  /** Minimum number of probability columns per head (e.g. the pack's K, so an all-error run keeps its columns). */
  gradeCount?: number;
}

/**
 * RFC 4180 CSV (CRLF line ends, quoted fields where needed) with a fixed column
 * order: file, pack, prompt, quality_score, quality_grade, quality_ability,
 * quality_p1..pK, alignment_score, alignment_grade, alignment_ability,
 * alignment_p1..pK, error_code, error_message.
 */
export function resultsToCsv(results: readonly ImageResult[], options: CsvOptions = {}): string {
  const base = options.gradeCount ?? 0;
  const kQuality = Math.max(base, ...results.map((r) => r.quality?.probabilities.length ?? 0));
  const kAlign = Math.max(base, ...results.map((r) => r.alignment?.probabilities.length ?? 0));
  const header = [
    'file',
    'pack',
    'prompt',
    ...headColumns('quality', kQuality),
    ...headColumns('alignment', kAlign),
    'error_code',
    'error_message',
  ];
  const rows = results.map((r) => [
    textCell(r.file),
    textCell(r.packId),
    textCell(r.prompt),
    ...headCells(r.quality, kQuality),
    ...headCells(r.alignment, kAlign),
    textCell(r.error?.code),
    textCell(r.error?.message),
  ]);
  return [header, ...rows].map((cells) => cells.join(',') + '\r\n').join('');
}
