// A person's ratings for the calibration view: a ratings CSV (name,rating[,prompt])
// matched to the page's images by file name, its scale stated or inferred, the
// ratings given with the keyboard or pointer (grades 1..K) put on that scale,
// and the grade counts of the batch under a head.
import { AgqgError } from '../../model/errors.ts';
import { gradeProbs, mostLikelyGrade, type GrmParams, type MosScale } from '../../model/grading/grm.ts';
import { parseCsvTable } from '../../model/util/csv.ts';
import { MIN_RATINGS, type CalibrationMode } from '../../model/training/calibrate.ts';
import { baseName } from '../prompts.ts';

const NAME_COLUMNS = ['name', 'file', 'filename', 'image'];
const RATING_COLUMNS = ['rating', 'score', 'mos', 'mos_quality', 'quality'];
const PROMPT_COLUMNS = ['prompt', 'text', 'caption'];

/** Scales people rate on, in the order they are tried: the first that holds every rating is inferred. */
const COMMON_SCALES: readonly (MosScale & { integers: boolean })[] = [
  { min: 1, max: 5, integers: true },
  { min: 0, max: 1, integers: false },
  { min: 0, max: 5, integers: false },
  { min: 1, max: 7, integers: true },
  { min: 1, max: 10, integers: true },
  { min: 0, max: 10, integers: false },
  { min: 0, max: 100, integers: false },
];

export interface RatingScale extends MosScale {
  /** grades: the page's own 1..K; stated: typed by the person; inferred: from the CSV's values. */
  source: 'grades' | 'stated' | 'inferred';
  /** Why this scale, in words. */
  why: string;
}

export function gradeScale(K: number): RatingScale {
  return { min: 1, max: K, source: 'grades', why: `the ${K} grades, 1 to ${K}` };
}

export function inferScale(values: readonly number[]): RatingScale {
  if (values.length === 0) throw new AgqgError('invalid_argument', 'no ratings to infer a scale from');
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const ints = values.every((v) => Number.isInteger(v));
  for (const s of COMMON_SCALES) {
    if (lo >= s.min && hi <= s.max && (ints || !s.integers)) {
      return {
        min: s.min,
        max: s.max,
        source: 'inferred',
        why: `every rating lies within ${s.min}–${s.max}${s.integers ? ' and is a whole number' : ''}`,
      };
    }
  }
  if (lo === hi) throw new AgqgError('invalid_argument', `every rating is ${lo}: a scale cannot be inferred`);
  return { min: lo, max: hi, source: 'inferred', why: `from the lowest (${lo}) and highest (${hi}) rating` };
}

export interface CsvRating {
  id: string;
  name: string;
  value: number;
  prompt: string | null;
}

export interface RatingsCsv {
  fileName: string;
  matched: CsvRating[];
  /** Rows whose name is no image in the page. */
  unmatched: { line: number; name: string }[];
  /** Rows whose rating is not a number. */
  invalid: { line: number; name: string; value: string }[];
  /** Names rated more than once: the last row counts. */
  repeated: string[];
  scale: RatingScale;
}

/** Reads a ratings CSV against the page's images (file name -> item id). */
export function parseRatingsCsv(
  text: string,
  fileName: string,
  ids: ReadonlyMap<string, string>,
): RatingsCsv {
  const { header, rows } = parseCsvTable(text, fileName);
  const lower = header.map((h) => h.toLowerCase());
  const col = (names: readonly string[]) => {
    const i = lower.findIndex((h) => names.includes(h));
    return i < 0 ? null : header[i];
  };
  const nameCol = col(NAME_COLUMNS);
  const ratingCol = col(RATING_COLUMNS);
  const promptCol = col(PROMPT_COLUMNS);
  if (!nameCol || !ratingCol) {
    throw new AgqgError(
      'unsupported_format',
      `${fileName} needs a name column (${NAME_COLUMNS.join('/')}) and a rating column (${RATING_COLUMNS.join('/')}); it has ${header.join(', ')}`,
    );
  }
  const byName = new Map<string, CsvRating>();
  const unmatched: RatingsCsv['unmatched'] = [];
  const invalid: RatingsCsv['invalid'] = [];
  const repeated = new Set<string>();
  rows.forEach((r, k) => {
    const line = k + 2;
    const name = baseName(r[nameCol].trim());
    const raw = r[ratingCol].trim();
    const value = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(value)) {
      invalid.push({ line, name, value: raw });
      return;
    }
    const id = ids.get(name);
    if (!id) {
      unmatched.push({ line, name });
      return;
    }
    if (byName.has(name)) repeated.add(name);
    byName.set(name, { id, name, value, prompt: promptCol ? r[promptCol] : null });
  });
  const matched = [...byName.values()];
  if (matched.length === 0) {
    throw new AgqgError(
      'invalid_argument',
      `${fileName}: no row names an image in the page (${unmatched.length} unmatched, ${invalid.length} not numbers)`,
    );
  }
  return {
    fileName,
    matched,
    unmatched,
    invalid,
    repeated: [...repeated],
    scale: inferScale(matched.map((m) => m.value)),
  };
}

/** A grade given with a key or a click (1..K) on the ratings' scale. */
export function gradeOnScale(grade: number, K: number, scale: MosScale): number {
  return scale.min + ((grade - 1) / (K - 1)) * (scale.max - scale.min);
}

/** The fit the number of ratings allows: retrain from MIN_RATINGS.retrain (when features are there), else recalibrate. */
export function defaultMode(n: number, withFeatures: boolean): CalibrationMode | null {
  if (n >= MIN_RATINGS.retrain && withFeatures) return 'retrain';
  return n >= MIN_RATINGS.recalibrate ? 'recalibrate' : null;
}

/** Images per most likely grade (index 0..K-1) for these abilities under a GRM. */
export function gradeCounts(abilities: readonly number[], grm: GrmParams, K: number): number[] {
  const out = new Array<number>(K).fill(0);
  for (const t of abilities) out[mostLikelyGrade(gradeProbs(t, grm, K))]++;
  return out;
}

/** Keys that rate: 1..K, and each grade label's first letter when no other label shares it. */
export function ratingKeys(labels: readonly string[]): Map<string, number> {
  const keys = new Map<string, number>();
  labels.forEach((_, i) => keys.set(String(i + 1), i + 1));
  const initials = labels.map((l) => l.trim().charAt(0).toLowerCase());
  initials.forEach((c, i) => {
    if (c && !/\d/.test(c) && initials.indexOf(c) === initials.lastIndexOf(c)) keys.set(c, i + 1);
  });
  return keys;
}
