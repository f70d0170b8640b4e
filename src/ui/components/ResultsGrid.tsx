import { useMemo } from 'react';
import { useStore, visibleIds } from '../store';
import { ResultCard } from './ResultCard';

export function ResultsGrid() {
  const order = useStore((s) => s.order);
  const items = useStore((s) => s.items);
  const sort = useStore((s) => s.sort);
  const gradeFilter = useStore((s) => s.gradeFilter);
  const statusFilter = useStore((s) => s.statusFilter);
  const ids = useMemo(
    () => visibleIds(order, items, sort, gradeFilter, statusFilter).filter((id) => items[id].status === 'done' || items[id].status === 'failed'),
    [order, items, sort, gradeFilter, statusFilter],
  );
  const total = useMemo(() => order.filter((id) => ['done', 'failed'].includes(items[id].status)).length, [order, items]);
  if (total === 0) {
    return <p className="empty muted">No results yet. Add images, then grade them: cards appear here as each one finishes.</p>;
  }
  return (
    <>
      <p className="muted count" aria-live="polite">
        Showing {ids.length} of {total} result{total === 1 ? '' : 's'}
      </p>
      <ul className="grid" aria-label="Graded images">
        {ids.map((id) => (
          <li key={id}>
            <ResultCard id={id} />
          </li>
        ))}
      </ul>
    </>
  );
}
