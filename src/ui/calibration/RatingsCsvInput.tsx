import { useId, useRef } from 'react';
import { useStore } from '../store.ts';
import { loadRatingsCsv, setScale } from './state.ts';

const LISTED = 20;

/** The "Ratings CSV" input, the scale it is read on (stated or inferred), and the rows it skipped. */
export function RatingsCsvInput() {
  const csv = useStore((s) => s.calibration.csv);
  const error = useStore((s) => s.calibration.csvError);
  const scale = useStore((s) => s.calibration.scale);
  const inputId = useId();
  const minId = useId();
  const maxId = useId();
  const ref = useRef<HTMLInputElement>(null);
  return (
    <div className="ratings-csv">
      <div className="field">
        <label htmlFor={inputId}>Ratings CSV</label>
        <input
          ref={ref}
          id={inputId}
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void loadRatingsCsv(f).finally(() => ref.current && (ref.current.value = ''));
          }}
        />
        <span className="muted">name,rating[,prompt]; any numeric scale</span>
      </div>
      {scale && (
        <div className="scale-fields" role="group" aria-label="Rating scale">
          <label htmlFor={minId}>Scale from</label>
          <input
            id={minId}
            type="number"
            step="any"
            defaultValue={scale.min}
            key={`min-${scale.min}`}
            onBlur={(e) => setScale(Number(e.target.value), scale.max)}
          />
          <label htmlFor={maxId}>to</label>
          <input
            id={maxId}
            type="number"
            step="any"
            defaultValue={scale.max}
            key={`max-${scale.max}`}
            onBlur={(e) => setScale(scale.min, Number(e.target.value))}
          />
          <span data-testid="rating-scale">
            Scale {scale.min}–{scale.max} ({scale.source}: {scale.why})
          </span>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {csv && (
        <div className="csv-report" aria-label="Ratings CSV report">
          <p>Read {csv.fileName}.</p>
          {csv.unmatched.length > 0 && (
            <details open>
              <summary>
                {csv.unmatched.length} row{csv.unmatched.length === 1 ? '' : 's'} name no image in the page
                (skipped)
              </summary>
              <ul aria-label="Rows that match no image">
                {csv.unmatched.slice(0, LISTED).map((r) => (
                  <li key={r.line}>
                    line {r.line}: {r.name}
                  </li>
                ))}
                {csv.unmatched.length > LISTED && <li>and {csv.unmatched.length - LISTED} more</li>}
              </ul>
            </details>
          )}
          {csv.invalid.length > 0 && (
            <details open>
              <summary>
                {csv.invalid.length} rating{csv.invalid.length === 1 ? ' is' : 's are'} not a number (skipped)
              </summary>
              <ul aria-label="Ratings that are not numbers">
                {csv.invalid.slice(0, LISTED).map((r) => (
                  <li key={r.line}>
                    line {r.line}: {r.name} “{r.value}”
                  </li>
                ))}
                {csv.invalid.length > LISTED && <li>and {csv.invalid.length - LISTED} more</li>}
              </ul>
            </details>
          )}
          {csv.repeated.length > 0 && (
            <p className="muted">Rated more than once (the last row counts): {csv.repeated.join(', ')}</p>
          )}
        </div>
      )}
    </div>
  );
}
