import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store.ts';
import { CalibrationResult } from './CalibrationResult.tsx';
import { FitControls } from './FitControls.tsx';
import { RatingCard } from './RatingCard.tsx';
import { RatingsCsvInput } from './RatingsCsvInput.tsx';
import { gradeScale, ratingKeys } from './ratings.ts';
import { SavedPacks } from './SavedPacks.tsx';
import { SavePack } from './SavePack.tsx';
import { openCalibration, rateable } from './state.ts';
import { refreshPackList } from './packs.ts';
import './calibration.css';

/** The calibration view: rate the page's graded images, or bring a CSV; fit; see; keep as a pack. */
export function CalibrationView() {
  const open = useStore((s) => s.calibration.open);
  const labels = useStore(useShallow((s) => s.pack?.labels ?? []));
  const ids = useStore(useShallow((s) => rateable(s.items, s.order).map((it) => it.id)));
  const stated = useStore((s) => s.calibration.scale);
  const scale = stated ?? gradeScale(labels.length || 5);
  const keys = useMemo(() => ratingKeys(labels), [labels]);
  if (!open) return null;
  const K = labels.length;
  const letters = [...keys.entries()].filter(([k]) => !/\d/.test(k));
  const scaleNote = (g: number) =>
    `${(scale.min + ((g - 1) / (K - 1)) * (scale.max - scale.min)).toPrecision(3)} on the scale ${scale.min}–${scale.max}`;
  return (
    <section className="calibration" aria-labelledby="calibration-heading">
      <div className="calibration-head">
        <h2 id="calibration-heading">Calibrate to my ratings</h2>
        <button type="button" className="secondary" onClick={() => openCalibration(false)}>
          Close calibration
        </button>
      </div>
      <p className="muted">
        Rate the graded images below: focus one and press 1–{K}
        {letters.length > 0 ? ` or ${letters.map(([k, g]) => `${k} (${labels[g - 1]})`).join(', ')}` : ''}, or
        click a grade; 0 or Delete clears. Nothing leaves this device: the fit runs in the page&apos;s worker.
      </p>
      <RatingsCsvInput />
      <FitControls />
      {ids.length === 0 ? (
        <p>Grade some images first: the view rates images the pack has graded.</p>
      ) : (
        <ul className="rating-grid" aria-label="Images to rate">
          {ids.map((id) => (
            <RatingCard key={id} id={id} labels={labels} keys={keys} scaleNote={scaleNote} />
          ))}
        </ul>
      )}
      <CalibrationResult />
      <SavePack onSaved={() => void refreshPackList()} />
      <SavedPacks onChanged={() => void refreshPackList()} />
    </section>
  );
}
