import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import {
  GradeResultSchema,
  ImageResultSchema,
  ResultsFileSchema,
  gradeResultFromAbility,
  resultsToCsv,
  type ImageResult,
  type ResultsFile,
} from '../src/model/grading/result.ts';

const LABELS = ['bad', 'poor', 'fair', 'good', 'excellent'];
const SCALE = { min: 0, max: 5 };
// Thresholds [-1.5, -0.5, 0.5, 1.5]: the hand-computed case from grm.test.ts.
const PARAMS = { a: 1, b1: -1.5, d: 1 };

function imageResult(over: Partial<ImageResult> = {}): ImageResult {
  return {
    file: 'img_001.jpg',
    packId: 'clip-agiqa3k',
    prompt: 'a cat on a sofa',
    quality: gradeResultFromAbility(0, PARAMS, LABELS, SCALE, false),
    alignment: gradeResultFromAbility(-2.25, { a: 2, b1: -1, d: 0.8 }, LABELS, SCALE, true),
    qualityNote: null,
    alignmentNote: null,
    alignmentError: null,
    timings: { decodeMs: 3.5, preprocessMs: 1.25, inferenceMs: 20, totalMs: 24.75 },
    backend: 'cpu',
    error: null,
    ...over,
  };
}

/** Minimal independent RFC 4180 reader used only to check what resultsToCsv wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i++;
      } else {
        cell += ch;
        i++;
      }
    } else if (ch === '"') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
      i++;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else {
      cell += ch;
      i++;
    }
  }
  if (cell !== '' || row.length > 0) throw new Error('CSV did not end with CRLF');
  return rows;
}

describe('gradeResultFromAbility', () => {
  it('builds the hand-computed K=5 result at the centre of the thresholds', () => {
    const g = gradeResultFromAbility(0, PARAMS, LABELS, SCALE, false);
    // p = [0.182, 0.195, 0.245, 0.195, 0.182] (see grm.test.ts), E = 3 by symmetry,
    // score = 0 + (3-1)/(5-1) * 5 = 2.5, most likely grade index 2 = 'fair'.
    expect(g.probabilities.map((p) => +p.toFixed(3))).toEqual([0.182, 0.195, 0.245, 0.195, 0.182]);
    expect(g.expectedGrade).toBeCloseTo(3, 14);
    expect(g.score).toBeCloseTo(2.5, 14);
    expect(g.grade).toBe('fair');
    expect(g.gradeIndex).toBe(2);
    expect(g.thresholds).toEqual([-1.5, -0.5, 0.5, 1.5]);
    expect(g.discrimination).toBe(1);
    expect(g.ability).toBe(0);
    expect(g.uncalibrated).toBe(false);
  });

  it('probabilities sum to 1 and the grade follows the ability', () => {
    let prev = -Infinity;
    for (let theta = -6; theta <= 6; theta += 0.5) {
      const g = gradeResultFromAbility(theta, { a: 2, b1: -1, d: 0.8 }, LABELS, SCALE, true);
      expect(Math.abs(g.probabilities.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-12);
      expect(g.score).toBeGreaterThan(prev);
      expect(g.score).toBeGreaterThanOrEqual(SCALE.min);
      expect(g.score).toBeLessThanOrEqual(SCALE.max);
      prev = g.score;
    }
    expect(gradeResultFromAbility(-6, { a: 2, b1: -1, d: 0.8 }, LABELS, SCALE, true).grade).toBe('bad');
    expect(gradeResultFromAbility(6, { a: 2, b1: -1, d: 0.8 }, LABELS, SCALE, true).grade).toBe('excellent');
  });

  it('refuses a single label with a specific error', () => {
    expect(() => gradeResultFromAbility(0, PARAMS, ['only'], SCALE, false)).toThrow(AgqgError);
  });
});

describe('result schemas', () => {
  it('round-trips a results file through JSON', () => {
    const file: ResultsFile = {
      schema: 'agqg-results',
      version: 1,
      createdAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)).toISOString(),
      pack: { id: 'clip-agiqa3k', name: 'CLIP AGIQA-3K', version: '1.0.0' },
      results: [
        imageResult(),
        imageResult({
          file: 'broken.png',
          prompt: null,
          quality: null,
          alignment: null,
          alignmentNote: 'no prompt given',
          timings: { totalMs: 0.5 },
          backend: null,
          error: { code: 'decode_failed', message: 'PNG signature missing' },
        }),
      ],
    };
    const back = ResultsFileSchema.parse(JSON.parse(JSON.stringify(file)));
    expect(back).toEqual(file);
  });

  it('rejects inconsistent grade results', () => {
    const g = gradeResultFromAbility(0, PARAMS, LABELS, SCALE, false);
    const bad = (over: object) => GradeResultSchema.safeParse({ ...g, ...over });
    expect(bad({ probabilities: [0.2, 0.2, 0.2, 0.2, 0.3] }).error?.issues[0].message).toMatch(/sum to 1.1/);
    expect(bad({ probabilities: [0.5, 0.5] }).error?.issues[0].message).toMatch(
      /2 entries for 5 grade labels/,
    );
    expect(bad({ grade: 'good' }).success).toBe(false);
    expect(bad({ gradeIndex: 0, grade: 'bad' }).error?.issues[0].message).toMatch(/most probable/);
    expect(bad({ thresholds: [0, 0, 1, 2] }).success).toBe(false);
    expect(bad({ thresholds: [0, 1] }).success).toBe(false);
    expect(bad({ expectedGrade: 5.5 }).success).toBe(false);
    expect(bad({ discrimination: 0 }).success).toBe(false);
    expect(bad({ score: NaN }).success).toBe(false);
  });

  it('rejects malformed image results and files', () => {
    const r = imageResult();
    expect(ImageResultSchema.safeParse({ ...r, error: { code: 'oops', message: 'x' } }).success).toBe(false);
    expect(ImageResultSchema.safeParse({ ...r, timings: { totalMs: -1 } }).success).toBe(false);
    expect(ImageResultSchema.safeParse({ ...r, file: '' }).success).toBe(false);
    const file = {
      schema: 'agqg-results',
      version: 1,
      createdAt: '2025-01-02T03:04:05.000Z',
      pack: { id: 'p', name: 'n', version: '1' },
      results: [r],
    };
    expect(ResultsFileSchema.safeParse(file).success).toBe(true);
    expect(ResultsFileSchema.safeParse({ ...file, version: 2 }).success).toBe(false);
    expect(ResultsFileSchema.safeParse({ ...file, schema: 'other' }).success).toBe(false);
    expect(ResultsFileSchema.safeParse({ ...file, createdAt: 'yesterday' }).success).toBe(false);
  });
});

describe('resultsToCsv', () => {
  const header = [
    'file',
    'pack',
    'prompt',
    'quality_score',
    'quality_grade',
    'quality_ability',
    'quality_p1',
    'quality_p2',
    'quality_p3',
    'quality_p4',
    'quality_p5',
    'alignment_score',
    'alignment_grade',
    'alignment_ability',
    'alignment_p1',
    'alignment_p2',
    'alignment_p3',
    'alignment_p4',
    'alignment_p5',
    'error_code',
    'error_message',
  ];

  it('writes the fixed column order and full-precision numbers', () => {
    const r = imageResult();
    const rows = parseCsv(resultsToCsv([r]));
    expect(rows[0]).toEqual(header);
    expect(rows).toHaveLength(2);
    const cells = Object.fromEntries(header.map((h, i) => [h, rows[1][i]]));
    expect(cells.file).toBe('img_001.jpg');
    expect(cells.pack).toBe('clip-agiqa3k');
    expect(cells.prompt).toBe('a cat on a sofa');
    expect(Number(cells.quality_score)).toBe(r.quality?.score);
    expect(cells.quality_grade).toBe('fair');
    expect(Number(cells.quality_p3)).toBe(r.quality?.probabilities[2]);
    // A negative ability is a number, not text: no formula guard on it.
    expect(cells.alignment_ability).toBe('-2.25');
    expect(cells.error_code).toBe('');
  });

  it('quotes hostile names per RFC 4180 and guards formula-like text', () => {
    const hostile = 'a,"b"\n=cmd()';
    const r1 = imageResult({ file: hostile, prompt: '=HYPERLINK("http://x")' });
    const r2 = imageResult({
      file: '@evil.png',
      prompt: '-1+1',
      quality: null,
      alignment: null,
      alignmentNote: 'failed',
      error: { code: 'decode_failed', message: '+bad, "truncated"\r\nfile' },
    });
    const r3 = imageResult({ file: 'plain.jpg', prompt: null });
    const csv = resultsToCsv([r1, r2, r3]);
    // Exact encoding of the hostile file name: wrapped in quotes, inner quotes doubled;
    // it starts with 'a', so no guard even though a later line starts with '='.
    expect(csv).toContain('\r\n"a,""b""\n=cmd()",clip-agiqa3k,"\'=HYPERLINK(""http://x"")",');
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toHaveLength(header.length);
    expect(rows[1][0]).toBe(hostile);
    expect(rows[1][2]).toBe('\'=HYPERLINK("http://x")');
    expect(rows[2][0]).toBe("'@evil.png");
    expect(rows[2][2]).toBe("'-1+1");
    expect(rows[2].slice(3, 19).every((c) => c === '')).toBe(true);
    expect(rows[2][19]).toBe('decode_failed');
    expect(rows[2][20]).toBe('\'+bad, "truncated"\r\nfile');
    expect(rows[3][2]).toBe('');
  });

  it('keeps probability columns for an all-error run when told the grade count', () => {
    const err = imageResult({
      quality: null,
      alignment: null,
      error: { code: 'backend_failed', message: 'x' },
    });
    expect(parseCsv(resultsToCsv([err]))[0]).toHaveLength(3 + 3 + 3 + 2);
    expect(parseCsv(resultsToCsv([err], { gradeCount: 5 }))[0]).toEqual(header);
    expect(resultsToCsv([], { gradeCount: 5 })).toBe(header.join(',') + '\r\n');
  });
});
