import { MIN_RATINGS, type CalibrationMode } from '../../model/training/calibrate.ts';
import { useStore } from '../store.ts';
import { cancelFit, chosenMode, fit, rateable, setMode } from './state.ts';

const MODE_TEXT: Record<CalibrationMode, string> = {
  recalibrate: 'Recalibrate: keep the pack’s ranking, fit its grades to your scale',
  retrain: 'Retrain: learn new ability weights from your ratings as well',
};

/** The counter of ratings (and what each fit needs), the fit's mode, Fit and Cancel, and progress. */
export function FitControls() {
  const c = useStore((s) => s.calibration);
  const n = useStore((s) => {
    const ids = rateable(s.items, s.order).map((it) => it.id);
    return ids.filter((id) => s.calibration.ratings[id]).length;
  });
  const total = useStore((s) => rateable(s.items, s.order).length);
  const mode = chosenMode(c, n);
  const fitting = c.status === 'fitting';
  return (
    <div className="fit-controls">
      <p role="status" aria-label="Ratings" data-testid="rating-counter">
        {n} of {total} images rated · recalibrate needs {MIN_RATINGS.recalibrate}
        {n < MIN_RATINGS.recalibrate ? ` (${MIN_RATINGS.recalibrate - n} more)` : ' ✓'} · retrain needs{' '}
        {MIN_RATINGS.retrain}
        {n < MIN_RATINGS.retrain ? ` (${MIN_RATINGS.retrain - n} more)` : ' ✓'}
      </p>
      <fieldset className="fit-mode" disabled={fitting}>
        <legend>Fit</legend>
        {(['recalibrate', 'retrain'] as const).map((m) => (
          <label key={m}>
            <input
              type="radio"
              name="calibration-mode"
              value={m}
              checked={mode === m}
              disabled={n < MIN_RATINGS[m]}
              onChange={() => setMode(m)}
            />{' '}
            {MODE_TEXT[m]}
          </label>
        ))}
      </fieldset>
      <div className="fit-buttons">
        <button type="button" disabled={fitting || mode === null} onClick={() => void fit()}>
          Fit
        </button>
        {fitting && (
          <button type="button" className="secondary" onClick={() => void cancelFit()}>
            Cancel fit
          </button>
        )}
      </div>
      {fitting && (
        <p className="muted" aria-live="polite" data-testid="fit-progress">
          <span className="spinner" aria-hidden="true" /> {c.progress}
        </p>
      )}
      {c.error && (
        <p
          className={c.status === 'error' ? 'error' : 'muted'}
          role={c.status === 'error' ? 'alert' : undefined}
        >
          {c.error}
        </p>
      )}
    </div>
  );
}
