import { useState } from 'react';
import type { ErrorInfo } from '../../model/errors';
import { deleteItems, regrade } from '../runner';
import { setPrompt, toggleCompare, useStore } from '../store';
import { GrmChart } from '../GrmChart';
import { GradeSummary } from './GradeBlock';

const NO_TEXT_NOTE = 'This pack has no text encoder, so alignment with the prompt is not graded.';

export function ResultCard({ id }: { id: string }) {
  const it = useStore((s) => s.items[id]);
  const compared = useStore((s) => s.compare.includes(id));
  const mosMax = useStore((s) => (s.pack && s.pack.id === s.items[id]?.result?.packId ? s.pack.mos.max : undefined));
  const hasText = useStore((s) => s.pack?.hasText ?? true);
  const running = useStore((s) => s.running);
  const [editing, setEditing] = useState(false);
  if (!it) return null;
  const r = it.result;
  const error = r?.error ?? it.problem;
  const alignmentNote = r?.alignmentNote ?? (hasText ? null : NO_TEXT_NOTE);
  // Fields the scorer sets that result.ts may not list yet; read them without assuming.
  const extras = r as (typeof r & { qualityNote?: string | null; alignmentError?: ErrorInfo | null }) | null;
  const qualityNote = extras?.qualityNote ?? null;
  const alignmentError = extras?.alignmentError ?? null;

  return (
    <article className={`card${error ? ' card-error' : ''}`} aria-label={`Result for ${it.name}`} data-status={it.status}>
      <header className="card-head">
        <h3 className="card-name" title={it.name}>
          {it.name}
        </h3>
        <label className="compare-toggle">
          <input type="checkbox" checked={compared} onChange={() => toggleCompare(id)} aria-label={`Compare ${it.name}`} />
          <span aria-hidden="true">compare</span>
        </label>
      </header>
      <div className="card-body">
        <div className="thumb">
          {it.thumbUrl ? (
            <img src={it.thumbUrl} alt={`Thumbnail of ${it.name}`} width={it.width ?? undefined} height={it.height ?? undefined} />
          ) : (
            <div className="thumb-missing" aria-hidden="true">
              {error ? '!' : '…'}
            </div>
          )}
          {it.width && it.height && (
            <span className="dims muted">
              {it.width}×{it.height}
            </span>
          )}
        </div>
        <div className="card-grades">
          {error && (
            <p className="error" data-error-code={error.code}>
              <strong>{error.code.replace(/_/g, ' ')}</strong>: {error.message}
            </p>
          )}
          {r?.quality && <GradeSummary grade={r.quality} title="Quality" mosMax={mosMax} />}
          {!error && !r?.quality && qualityNote && <p className="note">{qualityNote}</p>}
          {r?.alignment && <GradeSummary grade={r.alignment} title="Alignment" mosMax={mosMax} />}
          {!error && !r?.alignment && alignmentNote && (
            <p className="note">
              <span className="grade-title">Alignment</span> not graded: {alignmentNote}
            </p>
          )}
          {alignmentError && (
            <p className="error" data-error-code={alignmentError.code}>
              {alignmentError.message}
            </p>
          )}
        </div>
      </div>
      {(r?.quality || r?.alignment) && (
        <div className="card-charts">
          {r?.quality && <GrmChart grade={r.quality} title="Quality" />}
          {r?.alignment && <GrmChart grade={r.alignment} title="Alignment" />}
        </div>
      )}
      <footer className="card-foot">
        {editing && it.file ? (
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              setEditing(false);
              void regrade(id);
            }}
          >
            <input
              type="text"
              aria-label={`Prompt for ${it.name}`}
              value={it.prompt}
              onChange={(e) => setPrompt(id, e.target.value)}
              autoFocus
            />
            <button type="submit" disabled={running}>
              Re-grade
            </button>
          </form>
        ) : (
          <p className="prompt" title={it.prompt}>
            <span className="muted">Prompt:</span> {it.prompt ? it.prompt : <em className="muted">none</em>}
          </p>
        )}
        <div className="card-actions">
          {it.file && !editing && (
            <button type="button" className="link" onClick={() => setEditing(true)} disabled={running}>
              Edit prompt
            </button>
          )}
          <button type="button" className="link" onClick={() => void deleteItems([id])} aria-label={`Delete result for ${it.name}`}>
            Delete
          </button>
        </div>
        {r?.timings?.totalMs !== undefined && (
          <p className="timing muted">
            {r.timings.totalMs.toFixed(0)} ms · {r.backend ?? ''}
          </p>
        )}
      </footer>
    </article>
  );
}
