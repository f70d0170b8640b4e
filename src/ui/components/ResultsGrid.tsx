import { useDeferredValue, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useDrawnCount } from '../paced.ts';
import { CARD_WEIGHT, RESULTS_PAGE } from '../paging.ts';
import { selectFinishedCount, selectResultIds, selectView, useStore } from '../store.ts';
import { ResultCard } from './ResultCard.tsx';

export function ResultsGrid() {
  const latestIds = useStore(useShallow(selectResultIds));
  const view = useStore(selectView);
  const total = useStore(selectFinishedCount);
  const [limit, setLimit] = useState(RESULTS_PAGE);
  // Cards of new results are built in a background render React splits into short slices (a
  // batch of results arrives in one message); a sort or filter the user picks is taken at once.
  const latest = useMemo(() => ({ ids: latestIds, view }), [latestIds, view]);
  const deferred = useDeferredValue(latest);
  const ids = deferred.view === view ? deferred.ids : latestIds;
  // While a batch runs, its results' cards are added a frame's share at a time (a message brings
  // several); otherwise (a sort, a filter, "Show more", the end of the batch) every card at once.
  // New results reach this grid in a background render, so none is claimed in it (paced.ts).
  const running = useStore((s) => s.running);
  const drawn = useDrawnCount(Math.min(ids.length, limit), CARD_WEIGHT, running, false);
  if (total === 0) {
    return (
      <p className="empty muted">
        No results yet. Add images, then grade them: cards appear here as each one finishes.
      </p>
    );
  }
  const shown = ids.slice(0, drawn);
  const rest = ids.length - Math.min(ids.length, limit);
  return (
    <>
      <p className="muted count" aria-live="polite">
        Showing {shown.length} of {total} result{total === 1 ? '' : 's'}
        {ids.length !== total && <span data-testid="match-count"> ({ids.length} match)</span>}
      </p>
      <ul className="grid" aria-label="Graded images">
        {shown.map((id) => (
          <li key={id}>
            <ResultCard id={id} />
          </li>
        ))}
      </ul>
      {rest > 0 && (
        <div className="more">
          <button type="button" className="secondary" onClick={() => setLimit((l) => l + RESULTS_PAGE)}>
            Show {Math.min(RESULTS_PAGE, rest)} more
          </button>
          <span className="muted"> {rest} not shown: sort, filter or find to bring others first.</span>
        </div>
      )}
    </>
  );
}
