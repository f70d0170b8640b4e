/**
 * Text in the styles the queue rows and the result cards use (their own class names, so the font,
 * size and weight follow styles.css), laid out once, invisibly, when the page opens.
 *
 * A font face, and each size of it, is set up the first time text needs it, and in Chromium on
 * Linux that is a synchronous request from the main thread to the browser process (and to a thread
 * pool that the worker's WebAssembly compilation keeps busy): the queue's first rows (weight 500,
 * 0.75rem state pills), "no prompt" (italic) and the first cards' charts made theirs inside the
 * first frames of a batch, single layouts of 100-650 ms on a busy machine against 5-15 ms of CPU.
 * Text is drawn ("Aa1…") so the glyphs' strikes exist too, not only the faces.
 */
export function FontWarmup() {
  const t = 'Aa1×…';
  // No element the page or its tests look for (a queue row, an article.card): only their classes.
  return (
    <div className="visually-hidden" aria-hidden="true">
      <table className="queue-table">
        <thead>
          <tr>
            <th>{t}</th>
          </tr>
        </thead>
      </table>
      <div className="queue-table">
        <span className="q-name">{t}</span>
        <input type="text" tabIndex={-1} readOnly value={t} placeholder={t} />
        <span className="q-prompt-text">
          <em className="muted">{t}</em>
        </span>
        <span className="state">{t}</span>
        <button type="button" className="icon" tabIndex={-1}>
          ×
        </button>
      </div>
      <div>
        <span className="card-name">{t}</span>
        <span className="compare-toggle">{t}</span>
        <span className="dims">{t}</span>
        <span className="grade-title">{t}</span>
        <span className="grade-chip">{t}</span>
        <span className="grade-score">{t}</span>
        <span className="badge">{t}</span>
        <span className="note">{t}</span>
        <strong>{t}</strong>
        <span className="grm-title">{t}</span>
        <svg className="grm-svg" width="40" height="20">
          {['grm-caption', 'grm-region', 'grm-tick', 'grm-theta-label', 'grm-pct', 'grm-label'].map((c) => (
            <text key={c} className={c} x="0" y="10">
              {t}
            </text>
          ))}
        </svg>
        <span className="grm-data">{t}</span>
        <span className="card-foot">{t}</span>
        <span className="timing">{t}</span>
      </div>
    </div>
  );
}
