import { setNotice, useStore } from '../store.ts';

export function NoticeBar() {
  const notice = useStore((s) => s.notice);
  if (!notice) return null;
  return (
    <div className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
      <span>{notice.text}</span>
      <button type="button" className="link" onClick={() => setNotice(null)} aria-label="Dismiss message">
        ×
      </button>
    </div>
  );
}
