import { useId, useState } from 'react';
import { useStore } from '../store.ts';
import { savePack } from './state.ts';

/** "Save as pack": the last fit as a pack kept in this browser, under the name typed in "Pack name". */
export function SavePack({ onSaved }: { onSaved: () => void }) {
  const outcome = useStore((s) => s.calibration.outcome);
  const message = useStore((s) => s.calibration.saveMessage);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();
  if (!outcome) return null;
  return (
    <form
      className="save-pack"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        void savePack(name, onSaved).finally(() => setBusy(false));
      }}
    >
      <div className="field">
        <label htmlFor={id}>Pack name</label>
        <input id={id} value={name} maxLength={80} required onChange={(e) => setName(e.target.value)} />
      </div>
      <button type="submit" disabled={busy || name.trim() === ''}>
        Save as pack
      </button>
      {message && (
        <p
          className={message.kind === 'error' ? 'error' : undefined}
          role={message.kind === 'error' ? 'alert' : 'status'}
        >
          {message.text}
        </p>
      )}
    </form>
  );
}
