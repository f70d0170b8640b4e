// The training report: a plain-text table for the terminal and the JSON
// document saved next to the head.
import type { TrainResult } from '../../model/training/cv-types.ts';

const f = (v: number | undefined, digits = 4): string =>
  v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);

export function formatReport(res: TrainResult): string {
  const rows = res.candidates.map((c) => [
    c.name,
    c.lambda.toPrecision(3),
    f(c.cv.srcc),
    f(c.cv.plcc),
    f(c.cv.plccLogistic),
    f(c.cv.krcc),
    f(c.cv.rmse),
    f(c.cv.meanGroupSrcc),
    f(c.withinSetting.mean),
    c === res.selected ? '*' : '',
  ]);
  const header = [
    'candidate',
    'lambda',
    'SRCC',
    'PLCC',
    'PLCC-log',
    'KRCC',
    'RMSE',
    'in-gen',
    'in-setting',
    '',
  ];
  const table = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...table.map((r) => r[j].length)));
  const lines = table.map((r) =>
    r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  '),
  );
  const sel = res.selected;
  const gen = (sel.cv.groups ?? []).map((g) => `${g.name} ${f(g.srcc, 3)} (n=${g.n})`).join(', ');
  const set = sel.withinSetting.groups.map((g) => `${g.name} ${f(g.srcc, 3)}`).join(', ');
  const h = res.head;
  return [
    'Prompt-grouped cross-validation (out-of-fold predictions, pooled; * = selected):',
    ...lines,
    `selected fold SRCC: ${sel.foldSrcc.map((v) => f(v, 3)).join(', ')}`,
    `SRCC within generator: ${gen}`,
    `SRCC within generator setting: ${set}`,
    `head: ${h.kind} on ${h.inputDim} features; GRM a=${f(h.grm.a)} b1=${f(h.grm.b1)} d=${f(h.grm.d)} (a*d=${f(h.grm.a * h.grm.d)}), K=${h.K}, MOS ${h.mos.min}..${h.mos.max}`,
    '',
  ].join('\n');
}

export function reportJson(res: TrainResult): Record<string, unknown> {
  return {
    selected: res.selected,
    candidates: res.candidates,
    lambdaPath: res.lambdaPath,
    head: {
      kind: res.head.kind,
      input: res.head.input,
      inputDim: res.head.inputDim,
      grm: res.head.grm,
      K: res.head.K,
      mos: res.head.mos,
    },
  };
}
