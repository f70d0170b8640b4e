import { useStore } from '../store.ts';
import { askDelete, deleteSaved, exportSaved } from './state.ts';

/** Packs kept in this browser: export as a ZIP folder (agqg score --pack reads it), delete after a yes. */
export function SavedPacks({ onChanged }: { onChanged: () => void }) {
  const saved = useStore((s) => s.calibration.saved);
  const confirm = useStore((s) => s.calibration.confirmDelete);
  if (saved.length === 0) return null;
  return (
    <section className="saved-packs" aria-labelledby="saved-packs-heading">
      <h3 id="saved-packs-heading">Packs kept in this browser</h3>
      <ul>
        {saved.map((p) => (
          <li key={p.id}>
            <strong>{p.name}</strong>{' '}
            <span className="muted">
              {p.mode ?? 'pack'}
              {p.ratings != null ? ` · ${p.ratings} ratings` : ''} · base {p.baseId ?? 'none'} ·{' '}
              {p.savedAt.slice(0, 10)}
            </span>{' '}
            <button type="button" className="secondary" onClick={() => void exportSaved(p.id)}>
              Export {p.name}
            </button>{' '}
            {confirm === p.id ? (
              <span role="alertdialog" aria-label={`Delete ${p.name}?`}>
                Delete “{p.name}” from this browser? This cannot be undone.{' '}
                <button type="button" onClick={() => void deleteSaved(p.id, onChanged)}>
                  Yes, delete
                </button>{' '}
                <button type="button" className="secondary" onClick={() => askDelete(null)}>
                  Keep it
                </button>
              </span>
            ) : (
              <button type="button" className="secondary" onClick={() => askDelete(p.id)}>
                Delete {p.name}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
