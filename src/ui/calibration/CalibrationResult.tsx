import { useMemo } from 'react';
import type { Agreement } from '../../model/training/calibrate.ts';
import { useStore } from '../store.ts';
import { GradeDistribution } from './GradeDistribution.tsx';
import { gradeCounts } from './ratings.ts';
import { ThresholdAxis } from './ThresholdAxis.tsx';

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

function Row({ name, a, b }: { name: string; a: Agreement & { foldSrcc?: number[] }; b: Agreement }) {
  return (
    <>
      <tr>
        <th scope="row">{name}: SRCC</th>
        <td>
          {f3(a.srcc)}{' '}
          <span className="muted">
            (95% {f3(a.srccInterval.lo)}–{f3(a.srccInterval.hi)})
          </span>
        </td>
        <td>
          {f3(b.srcc)}{' '}
          <span className="muted">
            (95% {f3(b.srccInterval.lo)}–{f3(b.srccInterval.hi)})
          </span>
        </td>
      </tr>
      <tr>
        <th scope="row">PLCC</th>
        <td>
          {f3(a.plcc)}{' '}
          <span className="muted">
            (95% {f3(a.plccInterval.lo)}–{f3(a.plccInterval.hi)})
          </span>
        </td>
        <td>
          {f3(b.plcc)}{' '}
          <span className="muted">
            (95% {f3(b.plccInterval.lo)}–{f3(b.plccInterval.hi)})
          </span>
        </td>
      </tr>
      <tr>
        <th scope="row">Grade agreement (weighted kappa)</th>
        <td>{f3(a.kappa)}</td>
        <td>{f3(b.kappa)}</td>
      </tr>
      <tr>
        <th scope="row">RMSE on your scale</th>
        <td>{f3(a.rmse)}</td>
        <td>{f3(b.rmse)}</td>
      </tr>
    </>
  );
}

/** The region "Calibration result": cross-validated agreement, thresholds, the batch's grades. */
export function CalibrationResult() {
  const outcome = useStore((s) => s.calibration.outcome);
  const status = useStore((s) => s.calibration.status);
  const items = useStore((s) => s.items);
  const ratings = useStore((s) => s.calibration.ratings);
  const view = useMemo(() => {
    if (!outcome) return null;
    const K = outcome.labels.length;
    const before = gradeCounts(
      outcome.batchAbility
        .map((b) => items[b.id]?.result?.quality?.ability)
        .filter((v): v is number => v != null),
      outcome.baseGrm,
      K,
    );
    const newAb = outcome.batchAbility.map((b) => b.ability).filter((v): v is number => v != null);
    const after = gradeCounts(newAb, outcome.fit.grm, K);
    const rated = outcome.batchAbility
      .filter((b) => ratings[b.id] && b.ability != null)
      .map((b) => b.ability as number);
    return { K, before, after, missing: outcome.batchAbility.length - newAb.length, rated };
  }, [outcome, items, ratings]);
  return (
    <section className="calibration-result" role="region" aria-label="Calibration result" aria-live="polite">
      <h3>Calibration result</h3>
      {!outcome || !view ? (
        <p className="muted">
          {status === 'fitting' ? 'Fitting…' : 'No fit yet: rate images, then press Fit.'}
        </p>
      ) : (
        <>
          <p data-testid="calibration-summary">
            {outcome.fit.mode === 'recalibrate' ? 'Recalibrated' : 'Retrained'} {outcome.packName} on{' '}
            <strong>{outcome.fit.n} ratings</strong> (scale {outcome.fit.scale.min}–{outcome.fit.scale.max}),{' '}
            {outcome.fit.folds}-fold cross-validation grouped by {outcome.fit.groupedBy}, in{' '}
            {(outcome.fitMs / 1000).toFixed(1)} s.
            {outcome.fit.mode === 'recalibrate' &&
              ' The ranking is the pack’s; the grades now follow your scale.'}
          </p>
          {outcome.fit.warnings.length > 0 ? (
            <ul className="calibration-warnings" aria-label="Warnings">
              {outcome.fit.warnings.map((w) => (
                <li key={w} className="error">
                  {w}
                </li>
              ))}
            </ul>
          ) : (
            <p>On your ratings the new head does at least as well as the pack&apos;s own head.</p>
          )}
          <table className="calibration-metrics">
            <thead>
              <tr>
                <th scope="col">Out-of-fold, n = {outcome.fit.n}</th>
                <th scope="col">New head</th>
                <th scope="col">Pack head</th>
              </tr>
            </thead>
            <tbody>
              <Row name="Ranking" a={outcome.fit.cv} b={outcome.fit.base} />
              <tr>
                <th scope="row">SRCC per fold</th>
                <td colSpan={2}>{outcome.fit.cv.foldSrcc.map(f3).join(', ')}</td>
              </tr>
            </tbody>
          </table>
          <ThresholdAxis
            oldGrm={outcome.baseGrm}
            newGrm={outcome.fit.grm}
            K={view.K}
            axis={outcome.axis}
            abilities={view.rated}
            labels={outcome.labels}
          />
          <GradeDistribution
            labels={outcome.labels}
            before={view.before}
            after={view.after}
            missing={view.missing}
          />
        </>
      )}
    </section>
  );
}
