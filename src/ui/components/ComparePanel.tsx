import { useShallow } from 'zustand/react/shallow';
import { clearCompare, toggleCompare, useStore, type Item } from '../store.ts';
import { GradeBlock } from './GradeBlock.tsx';
import { useThumbUrl } from '../thumbs.ts';

function CompareThumb({ it }: { it: Item }) {
  const url = useThumbUrl(it.thumbnail);
  return url ? <img src={url} alt={`Thumbnail of ${it.name}`} /> : null;
}

export function ComparePanel() {
  // The compared items themselves (compared one by one), so other results arriving do not re-render the panel.
  const list = useStore(useShallow((s) => s.compare.map((id) => s.items[id]).filter(Boolean)));
  const mos = useStore((s) => s.pack?.mos.max);
  if (list.length < 2) {
    return list.length === 1 ? (
      <p className="muted compare-hint">Select one more image to compare side by side.</p>
    ) : null;
  }
  return (
    <section className="compare" aria-label="Comparison">
      <div className="compare-head">
        <h3>Side by side</h3>
        <button type="button" className="link" onClick={clearCompare}>
          Close comparison
        </button>
      </div>
      <div className="compare-cols" style={{ gridTemplateColumns: `repeat(${list.length}, minmax(0, 1fr))` }}>
        {list.map((it) => (
          <div key={it.id} className="compare-col">
            <CompareThumb it={it} />
            <p className="card-name" title={it.name}>
              {it.name}
            </p>
            {it.result?.quality && <GradeBlock grade={it.result.quality} title="Quality" mosMax={mos} />}
            {it.result?.alignment && (
              <GradeBlock grade={it.result.alignment} title="Alignment" mosMax={mos} />
            )}
            {it.result && !it.result.error && !it.result.alignment && (
              <p className="note">
                <span className="grade-title">Alignment</span> not graded
                {it.result.alignmentError
                  ? `: ${it.result.alignmentError.message}`
                  : it.result.alignmentNote
                    ? `: ${it.result.alignmentNote}`
                    : ''}
              </p>
            )}
            {it.result?.error && <p className="error">{it.result.error.message}</p>}
            <button type="button" className="link" onClick={() => toggleCompare(it.id)}>
              Remove from comparison
            </button>
          </div>
        ))}
      </div>
    </section>
  );
}
