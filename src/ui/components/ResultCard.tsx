import { memo, useState } from 'react';
import { deleteItems } from '../persist.ts';
import { canGradeFromEmbedding, regradePrompt } from '../runner.ts';
import { setPrompt, toggleCompare, useStore, type Item } from '../store.ts';
import { GrmChart } from '../GrmChart.tsx';
import { GradeSummary } from './GradeBlock.tsx';
import { useThumbUrl } from '../thumbs.ts';

export const NO_TEXT_TEXT =
  'this pack has no text encoder, so it cannot compare the image with a prompt. Load a CLIP pack (one with a text model) to grade alignment.';
export const NEED_PROMPT_TEXT = 'Add the prompt that made this image to grade alignment.';

/** What re-grading this image would do now: from its kept embedding, from its file, or not at all. */
function regradeMode(it: Item, packKey: string | undefined): 'embedding' | 'file' | null {
  if (canGradeFromEmbedding(it, packKey)) return 'embedding';
  return it.file ? 'file' : null;
}

function PromptForm({ it, submitLabel, onDone }: { it: Item; submitLabel: string; onDone?: () => void }) {
  const packKey = useStore((s) => s.pack?.packKey);
  const running = useStore((s) => s.running);
  const mode = regradeMode(it, packKey);
  // The file path goes through the batch queue, which runs one batch at a time.
  const busy = it.regrading || (mode === 'file' && running);
  return (
    <form
      className="inline"
      onSubmit={(e) => {
        e.preventDefault();
        onDone?.();
        void regradePrompt(it.id);
      }}
    >
      <input
        type="text"
        aria-label={`Prompt for ${it.name}`}
        placeholder="the prompt that made this image"
        value={it.prompt}
        onChange={(e) => setPrompt(it.id, e.target.value)}
      />
      <button
        type="submit"
        disabled={busy || mode === null}
        title={mode === null ? 'Add the image again to grade it with this pack' : undefined}
      >
        {it.regrading ? 'Grading…' : submitLabel}
      </button>
    </form>
  );
}

function AlignmentSection({ it }: { it: Item }) {
  const r = it.result;
  const hasText = useStore((s) => (s.pack && s.pack.id === r?.packId ? s.pack.hasText : null));
  const mosMax = useStore((s) => (s.pack && s.pack.id === r?.packId ? s.pack.mos.max : undefined));
  if (!r || r.error) return null;
  if (r.alignment) {
    return (
      <>
        <GradeSummary grade={r.alignment} title="Alignment" mosMax={mosMax} />
        {r.alignmentNote && (
          <p className="note" data-testid="alignment-note">
            {r.alignmentNote}
          </p>
        )}
      </>
    );
  }
  if (r.alignmentError) {
    return (
      <p className="error" data-error-code={r.alignmentError.code} data-testid="alignment-note">
        <span className="grade-title">Alignment</span> not graded: {r.alignmentError.message}
      </p>
    );
  }
  const noText = hasText === false || /no text encoder/.test(r.alignmentNote ?? '');
  if (noText) {
    return (
      <p className="note" data-testid="alignment-note">
        <span className="grade-title">Alignment</span> not graded: {NO_TEXT_TEXT}
      </p>
    );
  }
  if ((r.prompt ?? '').trim() === '') {
    return (
      <div className="align-missing" data-testid="alignment-missing-prompt">
        <p>
          <span className="grade-title">Alignment</span> {NEED_PROMPT_TEXT}
        </p>
        <PromptForm it={it} submitLabel="Grade alignment" />
      </div>
    );
  }
  return r.alignmentNote ? (
    <p className="note" data-testid="alignment-note">
      <span className="grade-title">Alignment</span> not graded: {r.alignmentNote}
    </p>
  ) : null;
}

/** Its own component: the thumbnail's URL arrives a task after the card and redraws only this. */
function CardThumb({ it, failed }: { it: Item; failed: boolean }) {
  const url = useThumbUrl(it.thumbnail);
  return url ? (
    <img
      src={url}
      alt={`Thumbnail of ${it.name}`}
      width={it.width ?? undefined}
      height={it.height ?? undefined}
    />
  ) : (
    <div className="thumb-missing" aria-hidden="true">
      {failed ? '!' : '…'}
    </div>
  );
}

/** Memoised: the grid re-renders when its list changes, and only a card whose item changed should follow. */
export const ResultCard = memo(function ResultCard({ id }: { id: string }) {
  const it = useStore((s) => s.items[id]);
  const compared = useStore((s) => s.compare.includes(id));
  const mosMax = useStore((s) =>
    s.pack && s.pack.id === s.items[id]?.result?.packId ? s.pack.mos.max : undefined,
  );
  const packKey = useStore((s) => s.pack?.packKey);
  const [editing, setEditing] = useState(false);
  if (!it) return null;
  const r = it.result;
  const error = r?.error ?? it.problem;
  const qualityNote = r?.qualityNote ?? null;
  const mode = regradeMode(it, packKey);
  const askingForPrompt =
    !!r && !r.error && !r.alignment && !r.alignmentError && (r.prompt ?? '').trim() === '';

  return (
    <article
      className={`card${error ? ' card-error' : ''}`}
      aria-label={`Result for ${it.name}`}
      data-status={it.status}
      aria-busy={it.regrading || undefined}
    >
      <header className="card-head">
        <h3 className="card-name" title={it.name}>
          {it.name}
        </h3>
        <label className="compare-toggle">
          <input
            type="checkbox"
            checked={compared}
            onChange={() => toggleCompare(id)}
            aria-label={`Compare ${it.name}`}
          />
          <span aria-hidden="true">compare</span>
        </label>
      </header>
      <div className="card-body">
        <div className="thumb">
          <CardThumb it={it} failed={!!error && !it.thumbnail} />
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
          {!error && qualityNote && (
            <p className="note" data-testid="quality-note">
              {qualityNote}
            </p>
          )}
          <AlignmentSection it={it} />
        </div>
      </div>
      {(r?.quality || r?.alignment) && (
        <div className="card-charts">
          {r?.quality && <GrmChart grade={r.quality} title="Quality" />}
          {r?.alignment && <GrmChart grade={r.alignment} title="Alignment" />}
        </div>
      )}
      <footer className="card-foot">
        {editing && mode ? (
          <PromptForm it={it} submitLabel="Re-grade" onDone={() => setEditing(false)} />
        ) : (
          !askingForPrompt && (
            <p className="prompt" title={it.prompt}>
              <span className="muted">Prompt:</span> {it.prompt ? it.prompt : <em className="muted">none</em>}
            </p>
          )
        )}
        <div className="card-actions">
          {mode && !editing && !askingForPrompt && (
            <button type="button" className="link" onClick={() => setEditing(true)} disabled={it.regrading}>
              Edit prompt
            </button>
          )}
          <button
            type="button"
            className="link"
            onClick={() => void deleteItems([id])}
            aria-label={`Delete result for ${it.name}`}
          >
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
});
