import { useDeferredValue, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { RESULTS_PAGE } from '../paging';
import { selectFinishedCount, selectResultIds, selectView, useStore } from '../store';
import { ResultCard } from './ResultCard';

export function ResultsGrid() {
  const latestIds = useStore(useShallow(selectResultIds));
  const view = useStore(selectView);
  const total = useStore(selectFinishedCount);
  const [limit, setLimit] = useState(RESULTS_PAGE);
  // Cards of new results are built in a background render React splits into short slices (a
  // batch of results arrives in one message); a sort or filter the user picks is drawn at once.
  const latest = useMemo(() => ({ ids: latestIds, view }), [latestIds, view]);
  const deferred = useDeferredValue(latest);
  const ids = deferred.view === view ? deferred.ids : latestIds;
  if (total === 0) {
    return <p className="empty muted">No results yet. Add images, then grade them: cards appear here as each one finishes.</p>;
  }
  const shown = ids.slice(0, limit);
  const rest = ids.length - shown.length;
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
