import { thresholds, type GrmParams } from '../../model/grading/grm.ts';

const W = 520;
const H = 92;
const PAD = 16;

/**
 * The old and the new thresholds b_k on one ability axis (retrain: the old ones carried onto the
 * new axis by the line fitted over the rated images), with the rated images' abilities as ticks.
 */
export function ThresholdAxis({
  oldGrm,
  newGrm,
  K,
  axis,
  abilities,
  labels,
}: {
  oldGrm: GrmParams;
  newGrm: GrmParams;
  K: number;
  axis: { slope: number; intercept: number };
  abilities: readonly number[];
  labels: readonly string[];
}) {
  const oldT = thresholds(oldGrm, K).map((b) => axis.slope * b + axis.intercept);
  const newT = thresholds(newGrm, K);
  const all = [...oldT, ...newT, ...abilities];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const x = (v: number) => PAD + ((v - lo) / span) * (W - 2 * PAD);
  const describe = (t: number[]) =>
    t.map((b, k) => `${labels[k]}|${labels[k + 1]} ${b.toFixed(2)}`).join(', ');
  return (
    <figure className="threshold-axis">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Thresholds on the ability axis. Old: ${describe(oldT)}. New: ${describe(newT)}.`}
      >
        <line x1={PAD} x2={W - PAD} y1={H / 2} y2={H / 2} className="axis-line" />
        {abilities.map((a, i) => (
          <line key={i} x1={x(a)} x2={x(a)} y1={H / 2 - 3} y2={H / 2 + 3} className="axis-item" />
        ))}
        {oldT.map((b, k) => (
          <g key={`o${k}`} className="threshold-old">
            <line x1={x(b)} x2={x(b)} y1={14} y2={H / 2} />
            <text x={x(b)} y={11} textAnchor="middle">
              {k + 1}|{k + 2}
            </text>
          </g>
        ))}
        {newT.map((b, k) => (
          <g key={`n${k}`} className="threshold-new">
            <line x1={x(b)} x2={x(b)} y1={H / 2} y2={H - 14} />
            <text x={x(b)} y={H - 3} textAnchor="middle">
              {k + 1}|{k + 2}
            </text>
          </g>
        ))}
      </svg>
      <figcaption className="muted">
        Above the axis the pack&apos;s thresholds, below the new ones; small ticks are the rated images.
        {axis.slope !== 1 || axis.intercept !== 0
          ? ' The old thresholds are carried onto the new ability by a straight-line fit over the rated images.'
          : ''}
      </figcaption>
    </figure>
  );
}
