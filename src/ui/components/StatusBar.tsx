import { useStore } from '../store.ts';

const OFFLINE_TEXT = {
  unsupported: 'Offline: not available here',
  waiting: 'Offline: waiting for a pack',
  caching: 'Offline: saving the pack…',
  ready: 'Available offline',
  failed: 'Offline: pack not saved',
} as const;

export function StatusBar() {
  const backend = useStore((s) => s.backend);
  const note = useStore((s) => s.backendNote);
  const offline = useStore((s) => s.offline);
  const offlineDetail = useStore((s) => s.offlineDetail);
  const label = backend
    ? `${backend.kind === 'webgpu' ? 'WebGPU' : 'WASM'} · ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`
    : 'starting…';
  const title = backend
    ? [
        backend.name,
        backend.reason,
        backend.adapter,
        backend.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated (one thread)',
      ]
        .filter(Boolean)
        .join('; ')
    : undefined;
  return (
    <div className="status-bar">
      <p className="pill" role="status" aria-label="Backend" title={title}>
        <span className="pill-key">Backend</span> <span data-testid="backend">{label}</span>
      </p>
      {note && <p className="pill pill-warn">{note}</p>}
      <p
        className={`pill ${offline === 'ready' ? 'pill-ok' : ''}`}
        role="status"
        aria-label="Offline status"
        title={offlineDetail ?? undefined}
      >
        {OFFLINE_TEXT[offline]}
      </p>
    </div>
  );
}
