import { useMemo, useState } from 'react';
import { downloadCsv, downloadJson, exportable } from '../export';
import { clearAll } from '../runner';
import { setGradeFilter, setNotice, setSort, setStatusFilter, useStore, type SortKey, type StatusFilter } from '../store';

export function ResultsToolbar() {
  const sort = useStore((s) => s.sort);
  const gradeFilter = useStore((s) => s.gradeFilter);
  const statusFilter = useStore((s) => s.statusFilter);
  const order = useStore((s) => s.order);
  const items = useStore((s) => s.items);
  const pack = useStore((s) => s.pack);
  const running = useStore((s) => s.running);
  const [confirming, setConfirming] = useState(false);

  const results = useMemo(() => exportable(order, items), [order, items]);
  const labels = useMemo(() => {
    const seen = new Set<string>(pack?.labels ?? []);
    for (const r of results) for (const l of r.quality?.labels ?? []) seen.add(l);
    return [...seen];
  }, [results, pack]);

  const safely = (f: () => void) => {
    try {
      f();
    } catch (err) {
      setNotice({ kind: 'error', text: `Export failed: ${(err as Error).message}` });
    }
  };

  return (
    <div className="toolbar" role="toolbar" aria-label="Results tools">
      <label className="field compact">
        <span>Sort</span>
        <select aria-label="Sort results" value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
          <option value="added">Order added</option>
          <option value="quality-desc">Quality: best first</option>
          <option value="quality-asc">Quality: worst first</option>
          <option value="alignment-desc">Alignment: best first</option>
          <option value="alignment-asc">Alignment: worst first</option>
          <option value="name">File name</option>
        </select>
      </label>
      <label className="field compact">
        <span>Grade</span>
        <select aria-label="Filter by quality grade" value={gradeFilter} onChange={(e) => setGradeFilter(e.target.value)}>
          <option value="all">All grades</option>
          {labels.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label className="field compact">
        <span>Show</span>
        <select aria-label="Filter by status" value={statusFilter} onChange={(e) => setStatusFilter(e.target.value as StatusFilter)}>
          <option value="all">All</option>
          <option value="graded">Graded</option>
          <option value="errors">Errors</option>
        </select>
      </label>
      <div className="toolbar-actions">
      <button type="button" className="secondary" disabled={results.length === 0} onClick={() => safely(() => downloadJson(results, pack))}>
        Export JSON
      </button>
      <button type="button" className="secondary" disabled={results.length === 0} onClick={() => safely(() => downloadCsv(results, pack))}>
        Export CSV
      </button>
      {confirming ? (
        <>
          <button
            type="button"
            className="danger"
            onClick={() => {
              setConfirming(false);
              void clearAll();
            }}
          >
            Confirm: delete {results.length} results
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </>
      ) : (
        <button type="button" className="secondary" disabled={results.length === 0 || running} onClick={() => setConfirming(true)}>
          Clear results
        </button>
      )}
      </div>
    </div>
  );
}
