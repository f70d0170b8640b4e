import { memo, useId, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useDrawnCount, usePaced } from '../paced.ts';
import { QUEUE_ROWS } from '../paging.ts';
import { cancelBatch, gradeStaged, restage } from '../runner.ts';
import {
  applyBatchPrompt,
  removeItems,
  selectSummary,
  setBatchPrompt,
  setPrompt,
  useStore,
  type Item,
  type StoreState,
} from '../store.ts';
import { intake } from './DropZone.tsx';

const STATUS_TEXT: Record<Item['status'], string> = {
  staged: 'ready',
  queued: 'queued',
  running: 'grading',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** Memoised: a row re-renders when its own item changes, not when any image in the queue does. */
const QueueRow = memo(function QueueRow({ id }: { id: string }) {
  const live = useStore((s) => s.items[id]);
  // A row is drawn with its image as it was until this frame's share of rows has room for the change.
  const it = usePaced(live);
  if (!it) return null;
  const editable = it.status === 'staged' || it.status === 'cancelled';
  const status =
    it.status === 'running' && it.stage
      ? it.stage === 'decode'
        ? 'decoding'
        : 'scoring'
      : STATUS_TEXT[it.status];
  return (
    // The live state, so what the table holds can be counted at once; the cells follow within frames.
    <tr role="row" data-status={live?.status ?? it.status}>
      <th role="rowheader" scope="row" className="q-name" title={it.name}>
        {it.name}
      </th>
      <td role="cell">
        {editable ? (
          <input
            type="text"
            className="q-prompt"
            aria-label={`Prompt for ${it.name}`}
            // The live prompt: typing is never held back behind other rows' turn to be drawn.
            value={live?.prompt ?? it.prompt}
            placeholder="prompt (optional: needed for alignment)"
            onChange={(e) => setPrompt(id, e.target.value)}
          />
        ) : (
          // Text, not a disabled input, while the image is in the batch: a hundred inputs cost a
          // hundred editors to lay out each time the rows change.
          <span className="q-prompt-text" title={it.prompt}>
            {it.prompt || <em className="muted">no prompt</em>}
          </span>
        )}
      </td>
      <td role="cell">
        <span className={`state state-${it.status}`}>{status}</span>
      </td>
      <td role="cell">
        {editable && (
          <button
            type="button"
            className="icon"
            aria-label={`Remove ${it.name} from the queue`}
            onClick={() => removeItems([id])}
          >
            ×
          </button>
        )}
      </td>
    </tr>
  );
});

const selectQueue = (s: StoreState): string[] => selectSummary(s).queue;
const selectStaged = (s: StoreState): number => selectSummary(s).staged;
const selectCancelled = (s: StoreState): number => selectSummary(s).cancelled;

export function QueuePanel() {
  // Ids and counts, compared by value: a stage change inside one image re-renders only its row.
  const queue = useStore(useShallow(selectQueue));
  const staged = useStore(selectStaged);
  const cancelled = useStore(selectCancelled);
  const running = useStore((s) => s.running);
  const cancelling = useStore((s) => s.cancelling);
  const batchPrompt = useStore((s) => s.batchPrompt);
  const packReady = useStore((s) => s.packStatus === 'ready');
  const csvRef = useRef<HTMLInputElement>(null);
  const batchId = useId();

  const runTotal = useStore((s) => s.runTotal);
  const done = useStore((s) => s.runDone);
  // A folder of images is drawn a frame's share of rows at a time.
  const drawn = useDrawnCount(Math.min(queue.length, QUEUE_ROWS));

  if (queue.length === 0 && !running) {
    return (
      <div className="queue queue-empty">
        <BatchPrompt id={batchId} value={batchPrompt} />
      </div>
    );
  }
  return (
    <div className="queue" role="region" aria-label="Queue">
      <div className="queue-head">
        <h2>
          Queue <span className="muted">({queue.length})</span>
        </h2>
        <div className="queue-actions">
          {!running && staged > 0 && (
            <button type="button" onClick={() => void gradeStaged()} disabled={!packReady}>
              Grade {staged} image{staged === 1 ? '' : 's'}
            </button>
          )}
          {!running && cancelled > 0 && (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                const { items } = useStore.getState();
                restage(queue.filter((id) => items[id].status === 'cancelled'));
              }}
            >
              Re-queue {cancelled} cancelled
            </button>
          )}
          {running && (
            <button type="button" className="danger" onClick={() => void cancelBatch()} disabled={cancelling}>
              {cancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
          {!running && (
            <button type="button" className="secondary" onClick={() => removeItems(queue)}>
              Clear queue
            </button>
          )}
        </div>
      </div>
      {running && (
        <div className="progress-wrap">
          <progress aria-label="Batch progress" max={runTotal} value={done} />
          <span className="muted" aria-live="polite">
            {done} of {runTotal} graded
          </span>
        </div>
      )}
      <div className="prompt-tools">
        <BatchPrompt id={batchId} value={batchPrompt} />
        <div className="field">
          <input
            ref={csvRef}
            type="file"
            accept=".csv,text/csv"
            className="visually-hidden"
            aria-label="Prompts CSV (name,prompt)"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void intake([{ path: f.name, file: f }]);
              e.target.value = '';
            }}
          />
          <button
            type="button"
            className="secondary"
            onClick={() => csvRef.current?.click()}
            disabled={running}
          >
            Prompts from CSV…
          </button>
        </div>
      </div>
      {/* Explicit roles: the rows are laid out as a grid (styles.css), which would otherwise drop their table semantics. */}
      <table className="queue-table" role="table" aria-label="Images in the queue">
        <thead role="rowgroup">
          <tr role="row">
            <th role="columnheader" scope="col">
              Image
            </th>
            <th role="columnheader" scope="col">
              Prompt
            </th>
            <th role="columnheader" scope="col">
              State
            </th>
            <th role="columnheader" scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody role="rowgroup">
          {queue.slice(0, drawn).map((id) => (
            <QueueRow key={id} id={id} />
          ))}
        </tbody>
      </table>
      {queue.length > QUEUE_ROWS && (
        <p className="muted">
          …and {queue.length - QUEUE_ROWS} more (prompts from the batch prompt or a CSV).
        </p>
      )}
    </div>
  );
}

function BatchPrompt({ id, value }: { id: string; value: string }) {
  const running = useStore((s) => s.running);
  return (
    <div className="field batch-prompt">
      <label htmlFor={id}>Prompt for the whole batch</label>
      <div className="inline">
        <input
          id={id}
          type="text"
          value={value}
          placeholder="the prompt that made these images"
          onChange={(e) => setBatchPrompt(e.target.value)}
        />
        <button type="button" className="secondary" disabled={running} onClick={() => applyBatchPrompt()}>
          Apply to queue
        </button>
      </div>
    </div>
  );
}
