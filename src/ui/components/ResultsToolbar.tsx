import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { downloadCsv, downloadJson, exportable } from '../export.ts';
import { clearAll } from '../persist.ts';
import {
  selectGradeLabels,
  selectResultCount,
  setGradeFilter,
  setNameFilter,
  setNotice,
  setSort,
  setStatusFilter,
  useStore,
  type SortKey,
  type StatusFilter,
} from '../store.ts';

export function ResultsToolbar() {
  const sort = useStore((s) => s.sort);
  const gradeFilter = useStore((s) => s.gradeFilter);
  const statusFilter = useStore((s) => s.statusFilter);
  const nameFilter = useStore((s) => s.nameFilter);
  const pack = useStore((s) => s.pack);
  const running = useStore((s) => s.running);
  // Counts and labels, not the results: a result arriving re-renders the toolbar only when these change.
  const count = useStore(selectResultCount);
  const labels = useStore(useShallow(selectGradeLabels));
  const [confirming, setConfirming] = useState(false);
  const results = () => {
    const s = useStore.getState();
    return exportable(s.order, s.items);
  };

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
        <select
          aria-label="Filter by quality grade"
          value={gradeFilter}
          onChange={(e) => setGradeFilter(e.target.value)}
        >
          <option value="all">All grades</option>
          {labels.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label className="field compact">
        <span>Find</span>
        <input
          type="search"
          aria-label="Find results by file name"
          placeholder="file name"
          value={nameFilter}
          onChange={(e) => setNameFilter(e.target.value)}
        />
      </label>
      <label className="field compact">
        <span>Show</span>
        <select
          aria-label="Filter by status"
          value={statusFilter}
          onChange={(e) => setStatusFilter(e.target.value as StatusFilter)}
        >
          <option value="all">All</option>
          <option value="graded">Graded</option>
          <option value="errors">Errors</option>
        </select>
      </label>
      <div className="toolbar-actions">
        <button
          type="button"
          className="secondary"
          disabled={count === 0}
          onClick={() => safely(() => downloadJson(results(), pack))}
        >
          Export JSON
        </button>
        <button
          type="button"
          className="secondary"
          disabled={count === 0}
          onClick={() => safely(() => downloadCsv(results(), pack))}
        >
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
              Confirm: delete {count} results
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            className="secondary"
            disabled={count === 0 || running}
            onClick={() => setConfirming(true)}
          >
            Clear results
          </button>
        )}
      </div>
    </div>
  );
}
