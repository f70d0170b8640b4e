// The Graded Response Model of one image, drawn: the latent scale cut into
// grade regions by the thresholds b_1..b_{K-1}, the image's ability theta on
// it, and the grade probabilities as a histogram. A table carries the same
// numbers for screen readers and for anyone who wants them.
import { useId } from 'react';
import type { GradeResult } from '../model/grading/result.ts';
import { UncalibratedBadge } from './components/Uncalibrated.tsx';

const W = 360;
const PAD_X = 14;
const SCALE_TOP = 34;
const SCALE_H = 30;
const HIST_TOP = 112;
const HIST_H = 56;
const LABEL_GAP = 13;
const H = HIST_TOP + HIST_H + 18;

/** Red (worst) to green (best) across K grades. */
export function gradeColor(k: number, K: number): string {
  const hue = K > 1 ? (k / (K - 1)) * 130 : 60;
  return `hsl(${hue.toFixed(0)} 65% 45%)`;
}

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const pct = (p: number): string => `${(p * 100).toFixed(p >= 0.1 ? 0 : 1)}%`;

export interface GrmChartProps {
  grade: GradeResult;
  /** "Quality" or "Alignment"; names the chart for assistive technology. */
  title: string;
}

export function GrmChart({ grade, title }: GrmChartProps) {
  const tableId = useId();
  const { thresholds: b, ability: theta, probabilities: p, labels } = grade;
  const K = labels.length;
  const spacing = b.length > 1 ? (b[b.length - 1] - b[0]) / (b.length - 1) : 1;
  // Open-ended tail grades get one threshold spacing of room, more if theta lies beyond.
  const lo = Math.min(b[0] ?? theta, theta) - spacing;
  const hi = Math.max(b[b.length - 1] ?? theta, theta) + spacing;
  const x = (v: number): number => PAD_X + ((v - lo) / (hi - lo)) * (W - 2 * PAD_X);
  const edges = [lo, ...b, hi];
  const barW = (W - 2 * PAD_X) / K;
  const summary =
    `${title}: ability θ = ${fmt(theta)} on the latent scale; most likely grade "${grade.grade}" ` +
    `(${pct(p[grade.gradeIndex])}); thresholds ${b.map((v) => fmt(v)).join(', ')}.` +
    (grade.uncalibrated ? ' Uncalibrated (zero-shot) head.' : '');

  return (
    <figure className="grm">
      <figcaption className="grm-title">
        {title}
        {grade.uncalibrated && <UncalibratedBadge />}
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={summary}
        aria-describedby={tableId}
        className="grm-svg"
        preserveAspectRatio="xMidYMid meet"
      >
        <text x={PAD_X} y={12} className="grm-caption">
          latent scale
        </text>
        {labels.map((label, k) => {
          const x0 = x(edges[k]);
          const x1 = x(edges[k + 1]);
          const wide = x1 - x0 > label.length * 6.2;
          return (
            <g key={`r${k}`}>
              <rect
                x={x0}
                y={SCALE_TOP}
                width={Math.max(0, x1 - x0)}
                height={SCALE_H}
                fill={gradeColor(k, K)}
                opacity={k === grade.gradeIndex ? 0.42 : 0.2}
              />
              {wide && (
                <text
                  x={(x0 + x1) / 2}
                  y={SCALE_TOP + SCALE_H / 2 + 4}
                  textAnchor="middle"
                  className="grm-region"
                >
                  {label}
                </text>
              )}
            </g>
          );
        })}
        {b.map((v, k) => (
          <g key={`b${k}`}>
            <line
              x1={x(v)}
              x2={x(v)}
              y1={SCALE_TOP - 3}
              y2={SCALE_TOP + SCALE_H + 3}
              className="grm-threshold"
            />
            <text x={x(v)} y={SCALE_TOP + SCALE_H + LABEL_GAP} textAnchor="middle" className="grm-tick">
              b{k + 1}
            </text>
          </g>
        ))}
        <g className="grm-theta">
          <line x1={x(theta)} x2={x(theta)} y1={SCALE_TOP - 4} y2={SCALE_TOP + SCALE_H + 4} />
          <path
            d={`M ${x(theta) - 5} ${SCALE_TOP - 10} L ${x(theta) + 5} ${SCALE_TOP - 10} L ${x(theta)} ${SCALE_TOP - 3} Z`}
          />
          <text
            x={x(theta)}
            y={SCALE_TOP - 12}
            textAnchor={x(theta) > W - 50 ? 'end' : x(theta) < 50 ? 'start' : 'middle'}
            className="grm-theta-label"
          >
            θ {fmt(theta)}
          </text>
        </g>

        <text x={PAD_X} y={HIST_TOP - 18} className="grm-caption">
          grade probabilities
        </text>
        <line x1={PAD_X} x2={W - PAD_X} y1={HIST_TOP + HIST_H} y2={HIST_TOP + HIST_H} className="grm-axis" />
        {p.map((prob, k) => {
          const h = prob * HIST_H;
          const bx = PAD_X + k * barW + barW * 0.15;
          const bw = barW * 0.7;
          return (
            <g key={`p${k}`}>
              <rect
                x={bx}
                y={HIST_TOP + HIST_H - h}
                width={bw}
                height={h}
                fill={gradeColor(k, K)}
                opacity={k === grade.gradeIndex ? 1 : 0.55}
                className={k === grade.gradeIndex ? 'grm-bar grm-bar-top' : 'grm-bar'}
              />
              <text x={bx + bw / 2} y={HIST_TOP + HIST_H - h - 3} textAnchor="middle" className="grm-pct">
                {pct(prob)}
              </text>
              <text
                x={bx + bw / 2}
                y={HIST_TOP + HIST_H + LABEL_GAP}
                textAnchor="middle"
                className="grm-label"
              >
                {labels[k]}
              </text>
            </g>
          );
        })}
      </svg>
      <details className="grm-data">
        <summary>{title} numbers</summary>
        <table id={tableId}>
          <caption>
            {title}: ability θ = {fmt(theta, 3)}, discrimination a = {fmt(grade.discrimination, 3)}, expected
            grade {fmt(grade.expectedGrade, 3)}, score {fmt(grade.score, 3)}
          </caption>
          <thead>
            <tr>
              <th scope="col">Grade</th>
              <th scope="col">Latent range</th>
              <th scope="col">Probability</th>
            </tr>
          </thead>
          <tbody>
            {labels.map((label, k) => (
              <tr key={label + k}>
                <th scope="row">{label}</th>
                <td>
                  {k === 0 ? '−∞' : fmt(b[k - 1], 3)} to {k === K - 1 ? '+∞' : fmt(b[k], 3)}
                </td>
                <td>{fmt(p[k], 4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
