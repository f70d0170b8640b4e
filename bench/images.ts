// The benchmark's images: `count` AGIQA-3K rows spread over labels.csv (every
// k-th row, as e2e/files.ts picks them) so several generators and styles appear.
import { readFileSync } from 'node:fs';
import { parseCsvTable } from '../src/model/util/csv.ts';
import { AGIQA, sharedPath } from './shared.ts';

export interface BenchImage {
  name: string;
  prompt: string;
  path: string;
}

export function agiqaRows(): { name: string; prompt: string }[] {
  const { rows } = parseCsvTable(readFileSync(sharedPath(AGIQA, 'labels.csv'), 'utf8'), 'labels.csv');
  return rows.map((r) => ({ name: r.name, prompt: r.prompt }));
}

export function agiqaImages(count: number): BenchImage[] {
  const rows = agiqaRows();
  const n = Math.min(count, rows.length);
  const step = Math.max(1, Math.floor(rows.length / n));
  return Array.from({ length: n }, (_, i) => rows[i * step]).map((r) => ({
    ...r,
    path: sharedPath(AGIQA, 'images', r.name),
  }));
}
