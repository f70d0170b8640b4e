// Model packs on the page: lists the served ones, loads one (served, or picked from a local
// folder, its files read in the browser), switches its weights, and asks the service worker to keep
// a served pack for offline use. The worker holds the pack; the store shows its state.
import * as Comlink from 'comlink';
import type { VariantDtype } from '../model/pack/manifest.ts';
import type { LoadOptions, PackRequest, WorkerProgress } from '../worker/api.ts';
import { filesFromDirectory, filesFromList, type DirHandle, type PickedFile } from './files.ts';
import { restoreItems } from './persist.ts';
import { setNotice, useStore } from './store.ts';
import { backendChoice, ortTuning, threadsParam } from './url-params.ts';
import { scorer } from './worker-client.ts';

const LAST_PACK_KEY = 'agqg.lastPack';

const set = useStore.setState;
const get = useStore.getState;

function onPackProgress(p: WorkerProgress): void {
  if (p.kind === 'backend') {
    set({ backend: p.info, backendNote: p.note });
    return;
  }
  if (p.kind !== 'pack') return;
  const text =
    p.stage === 'read'
      ? `Read ${p.path} (${((p.loaded ?? 0) / 1e6).toFixed(1)} MB)`
      : p.stage === 'manifest'
        ? 'Reading the pack manifest'
        : p.stage === 'ready'
          ? 'Ready'
          : p.stage === 'settle'
            ? 'Waiting for the browser to finish compiling the runtime'
            : `Loading ${p.stage}`;
  set({ packProgress: text });
}

/** Asks the service worker to keep this pack's files for offline use. */
async function cacheForOffline(urls: string[]): Promise<void> {
  if (!('serviceWorker' in navigator) || !import.meta.env.PROD) {
    set({ offline: 'unsupported', offlineDetail: 'Offline use needs the built site (service worker).' });
    return;
  }
  if (urls.length === 0) {
    set({
      offline: 'failed',
      offlineDetail: 'Packs loaded from a local folder are not kept offline; load them again.',
    });
    return;
  }
  set({ offline: 'caching', offlineDetail: null });
  try {
    const reg = await navigator.serviceWorker.ready;
    const active = reg.active;
    if (!active) throw new Error('no active service worker');
    const reply = await new Promise<{ cached: number; failed: string[] }>((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = (e) => resolve(e.data as { cached: number; failed: string[] });
      active.postMessage({ type: 'cache-pack', urls }, [ch.port2]);
    });
    if (reply.failed.length > 0) set({ offline: 'failed', offlineDetail: reply.failed.join('; ') });
    else set({ offline: 'ready', offlineDetail: `${reply.cached} pack files cached` });
  } catch (err) {
    set({ offline: 'failed', offlineDetail: (err as Error).message });
  }
}

/** The request of the pack loaded now, so its weights can be switched (a local folder's files included). */
let loadedRequest: PackRequest | null = null;

export async function loadPack(req: PackRequest, opts: LoadOptions = {}): Promise<boolean> {
  if (get().running) {
    setNotice({ kind: 'info', text: 'Wait for the batch to finish (or cancel it) before switching packs.' });
    return false;
  }
  const previous = get().packChoice;
  set({
    packStatus: 'loading',
    packProgress: 'Starting',
    packError: null,
    packChoice: req.kind === 'url' ? req.id : '',
  });
  const out = await scorer().loadPack(req, backendChoice(), Comlink.proxy(onPackProgress), {
    threads: threadsParam(),
    tuning: ortTuning(),
    ...opts,
  });
  if (!out.ok) {
    // The worker keeps the previous pack when a new one fails; so does the picker.
    set({
      packStatus: get().pack ? 'ready' : 'error',
      packError: out.error,
      packProgress: null,
      packChoice: previous,
    });
    return false;
  }
  const pack = out.value;
  loadedRequest = req;
  set({ pack, packStatus: 'ready', packProgress: null, backend: pack.backend });
  if (req.kind === 'url') localStorage.setItem(LAST_PACK_KEY, req.id);
  void cacheForOffline(pack.urls);
  return true;
}

/** Loads the current pack again with other weights (fp32, fp16, q8, ...). */
export async function switchVariant(variant: VariantDtype): Promise<boolean> {
  if (!loadedRequest) return false;
  return loadPack(loadedRequest, { variant });
}

export function loadLocalPack(files: PickedFile[]): Promise<boolean> {
  const label = files[0]?.path.split('/')[0];
  return loadPack({ kind: 'files', files: files.map((f) => ({ path: f.path, file: f.file })), label });
}

export function loadLocalPackFromInput(list: FileList | null): Promise<boolean> {
  return loadLocalPack(filesFromList(list));
}

/** The File System Access picker where the browser has it; false when it does not (use the folder input). */
export async function pickPackDirectory(): Promise<boolean> {
  const picker = (window as unknown as { showDirectoryPicker?: () => Promise<DirHandle> })
    .showDirectoryPicker;
  if (!picker) return false;
  let dir: DirHandle;
  try {
    dir = await picker.call(window);
  } catch {
    return true; // the user closed the picker
  }
  await loadLocalPack(await filesFromDirectory(dir));
  return true;
}

/** Restores saved results, lists the served packs and loads the last used (or first) one. */
export async function init(): Promise<void> {
  const restoring = restoreItems();
  const listed = await scorer().listPacks();
  await restoring;
  if (!listed.ok) {
    set({ packStatus: 'error', packError: listed.error });
    return;
  }
  set({ packs: listed.value });
  const last = localStorage.getItem(LAST_PACK_KEY);
  const pick = listed.value.find((p) => p.id === last) ?? listed.value[0];
  if (pick) await loadPack({ kind: 'url', id: pick.id });
  else set({ packStatus: 'idle' });
}
