import type { GradeResult } from '../../model/grading/result.ts';
import { GrmChart, gradeColor } from '../GrmChart.tsx';
import { UncalibratedBadge } from './Uncalibrated.tsx';

export function GradeSummary({
  grade,
  title,
  mosMax,
}: {
  grade: GradeResult;
  title: string;
  mosMax?: number;
}) {
  const K = grade.labels.length;
  return (
    <p className="grade-line">
      <span className="grade-title">{title}</span>
      <span
        className="grade-chip"
        style={{ background: gradeColor(grade.gradeIndex, K) }}
        data-testid={`${title.toLowerCase()}-grade`}
      >
        {grade.grade}
      </span>
      <span className="grade-score" data-testid={`${title.toLowerCase()}-score`}>
        {grade.score.toFixed(2)}
        {mosMax !== undefined && <span className="muted"> / {mosMax}</span>}
      </span>
      {grade.uncalibrated && <UncalibratedBadge />}
    </p>
  );
}

export function GradeBlock({ grade, title, mosMax }: { grade: GradeResult; title: string; mosMax?: number }) {
  return (
    <div className="grade-block">
      <GradeSummary grade={grade} title={title} mosMax={mosMax} />
      <GrmChart grade={grade} title={title} />
    </div>
  );
}
