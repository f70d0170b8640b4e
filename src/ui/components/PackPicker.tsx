import { useId, useRef } from 'react';
import type { VariantDtype } from '../../model/pack/manifest.ts';
import { loadLocalPackFromInput, loadPack, pickPackDirectory, switchVariant } from '../packs.ts';
import { useStore } from '../store.ts';
import { UncalibratedBadge } from './Uncalibrated.tsx';

export function PackPicker() {
  const packs = useStore((s) => s.packs);
  const pack = useStore((s) => s.pack);
  const status = useStore((s) => s.packStatus);
  const progress = useStore((s) => s.packProgress);
  const error = useStore((s) => s.packError);
  const running = useStore((s) => s.running);
  const folderRef = useRef<HTMLInputElement>(null);
  const selectId = useId();
  const folderId = useId();
  const variantId = useId();

  const current = useStore((s) => s.packChoice);
  return (
    <div className="pack-picker">
      <div className="field">
        <label htmlFor={selectId}>Model pack</label>
        <select
          id={selectId}
          value={current}
          disabled={status === 'loading' || running}
          onChange={(e) => e.target.value && void loadPack({ kind: 'url', id: e.target.value })}
        >
          {current === '' && (
            <option value="">
              {pack?.source === 'files'
                ? `${pack.name} (local folder)`
                : packs.length
                  ? 'Choose a pack'
                  : 'No packs on this site'}
            </option>
          )}
          {packs.map((p) => (
            <option key={p.id} value={p.id} title={p.description}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      {pack && (
        <div className="field variant-field">
          <label htmlFor={variantId}>Weights</label>
          <select
            id={variantId}
            value={pack.variant.dtype}
            disabled={status === 'loading' || running || pack.variant.available.length < 2}
            title={`${pack.variant.reason}; vision ${pack.variant.visionFile}${pack.variant.textFile ? `, text ${pack.variant.textFile}` : ''}`}
            onChange={(e) => void switchVariant(e.target.value as VariantDtype)}
          >
            {pack.variant.available.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <input
          ref={folderRef}
          id={folderId}
          type="file"
          className="visually-hidden"
          aria-label="Load a pack from a local folder"
          // @ts-expect-error webkitdirectory is not in React's input attributes, but every current browser supports it
          webkitdirectory=""
          directory=""
          multiple
          disabled={status === 'loading' || running}
          onChange={(e) => {
            void loadLocalPackFromInput(e.target.files).finally(() => {
              if (folderRef.current) folderRef.current.value = '';
            });
          }}
        />
        <button
          type="button"
          className="secondary"
          disabled={status === 'loading' || running}
          onClick={() => void pickPackDirectory().then((done) => done || folderRef.current?.click())}
        >
          Load a pack from a local folder…
        </button>
      </div>
      <div className="pack-state" aria-live="polite">
        {status === 'loading' && (
          <p className="muted">
            <span className="spinner" aria-hidden="true" /> Loading pack… {progress}
          </p>
        )}
        {status === 'ready' && pack && (
          <p>
            Loaded <strong>{pack.name}</strong>
            <span className="muted" data-testid="variant-in-use" title={pack.variant.reason}>
              {' '}
              · {pack.variant.dtype} weights
              {pack.variant.textDtype && pack.variant.textDtype !== pack.variant.dtype
                ? ` (text ${pack.variant.textDtype})`
                : ''}
            </span>
            {(pack.qualityUncalibrated || pack.alignmentUncalibrated) && (
              <UncalibratedBadge
                label={
                  pack.qualityUncalibrated && pack.alignmentUncalibrated
                    ? 'uncalibrated'
                    : pack.qualityUncalibrated
                      ? 'quality uncalibrated'
                      : 'alignment uncalibrated'
                }
              />
            )}
            {!pack.hasText && (
              <span
                className="badge"
                title="Without a text encoder the pack grades quality only: alignment needs a CLIP text model."
              >
                no text encoder: no alignment
              </span>
            )}
            <span
              className="muted"
              data-testid="load-time"
              title={
                `Of which ${(pack.settleMs / 1000).toFixed(1)} s waiting for the browser to finish compiling the runtime, so grading starts with the cores free` +
                (pack.settled ? '.' : ' (it stopped waiting: the processor was still busy).')
              }
            >
              {' '}
              · {(pack.loadMs / 1000).toFixed(1)} s
            </span>
          </p>
        )}
        {status !== 'loading' && error && (
          <p className="error" role="alert">
            Pack could not be loaded: {error.message} <code>{error.code}</code>
            {pack && <span className="muted"> (still using {pack.name})</span>}
          </p>
        )}
      </div>
    </div>
  );
}
