import { useId } from 'react';

export const UNCALIBRATED_TEXT =
  'Zero-shot grade: this head was not fitted to human scores. It comes from CLIP similarities ' +
  '(the image against quality phrases, or against its prompt) with fixed settings, so use it to rank images ' +
  'graded with the same pack, not as a calibrated score. A pack with trained heads gives calibrated grades.';

/** The "uncalibrated" badge of a zero-shot grade, with its explanation as a tooltip (hover or keyboard focus). */
export function UncalibratedBadge({ label = 'uncalibrated' }: { label?: string }) {
  const tipId = useId();
  return (
    <span
      className="badge badge-warn badge-tip"
      tabIndex={0}
      aria-describedby={tipId}
      data-testid="uncalibrated"
    >
      {label}
      <span id={tipId} role="tooltip" className="tip">
        {UNCALIBRATED_TEXT}
      </span>
    </span>
  );
}
