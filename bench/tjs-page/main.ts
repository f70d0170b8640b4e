// The bench page's only script: spawns transformers.js workers (one per ORT
// thread setting) and relays requests from Playwright to them.
import type { Answer, Envelope, Request, TjsBenchApi } from '../tjs-protocol.ts';

// Type-checked with the Node benchmark (no DOM lib): the page globals it uses.
interface PageWorker {
  postMessage(message: Envelope): void;
  addEventListener(type: 'message', listener: (event: { data: Answer }) => void): void;
  addEventListener(type: 'error', listener: (event: { message: string }) => void): void;
  terminate(): void;
}
declare const Worker: new (url: URL, options: { type: 'module'; name: string }) => PageWorker;

interface Slot {
  worker: PageWorker;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
}

const slots = new Map<string, Slot>();
let nextId = 1;

function slotOf(key: string): Slot {
  const s = slots.get(key);
  if (!s) throw new Error(`no worker "${key}"`);
  return s;
}

const api: TjsBenchApi = {
  spawn(key) {
    if (slots.has(key)) throw new Error(`worker "${key}" exists`);
    // The name must not start with "em-pthread": ORT's pthread workers are recognised by it.
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      type: 'module',
      name: `tjs-${key}`,
    });
    const slot: Slot = { worker, pending: new Map() };
    worker.addEventListener('message', (event) => {
      const a = event.data;
      const p = slot.pending.get(a.id);
      if (!p) return;
      slot.pending.delete(a.id);
      if (a.ok) p.resolve(a.reply);
      else p.reject(new Error(a.error));
    });
    worker.addEventListener('error', (event) => {
      for (const p of slot.pending.values()) p.reject(new Error(`worker ${key}: ${event.message}`));
      slot.pending.clear();
    });
    slots.set(key, slot);
  },
  call(key, request: Request) {
    const slot = slotOf(key);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, request });
    });
  },
  terminate(key) {
    slots.get(key)?.worker.terminate();
    slots.delete(key);
  },
};

(globalThis as unknown as { tjsBench: TjsBenchApi }).tjsBench = api;
