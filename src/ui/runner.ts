// Grading on the page: feeds the worker the queue of staged images in batches, stores the
// results as they come, cancels, and grades an edited prompt again. State lives in the store;
// this module only sequences the work.
import * as Comlink from 'comlink';
import { AgqgError, toErrorInfo, type ErrorInfo } from '../model/errors.ts';
import type { GradeRequest, Graded, ProgressFn } from '../worker/api.ts';
import { publishRun, type RunStats } from './debug.ts';
import { afterFrame, nextTask } from './paced.ts';
import { saveItems } from './persist.ts';
import { patchItem, patchItems, setNotice, useStore, type Item } from './store.ts';
import { batchSize, inFlight } from './url-params.ts';
import { scorer } from './worker-client.ts';

const set = useStore.setState;
const get = useStore.getState;

function describe(err: ErrorInfo): string {
  return `${err.message} (${err.code})`;
}

function gradedPatch(g: Graded): Partial<Item> {
  return {
    status: g.result.error ? 'failed' : 'done',
    stage: null,
    result: g.result,
    thumbnail: g.thumbnail,
    width: g.width,
    height: g.height,
    features: g.features,
    packKey: g.packKey,
    problem: null,
  };
}

/**
 * Stage changes (decoding, scoring) come one message per image; they only change the queue's
 * state text, so they are stored together once a frame, and only for images still running.
 */
const stages = new Map<string, 'decode' | 'score'>();
let stagesQueued = false;
function showStage(id: string, stage: 'decode' | 'score'): void {
  stages.set(id, stage);
  if (stagesQueued) return;
  stagesQueued = true;
  afterFrame(() => {
    stagesQueued = false;
    const items = get().items;
    const patches = [...stages]
      .filter(([sid]) => items[sid]?.status === 'running')
      .map(([sid, st]) => [sid, { stage: st }] as const);
    stages.clear();
    if (patches.length > 0) patchItems(patches);
  });
}

/** Sends one batch to the worker and stores its results; returns how many images it settled. */
async function gradeItems(ids: readonly string[], run: RunStats, t0: number): Promise<number> {
  const items = get().items;
  const batch: { it: Item; file: File }[] = [];
  for (const id of ids) {
    const it = items[id];
    if (it?.file) batch.push({ it, file: it.file });
  }
  patchItems(batch.map(({ it }) => [it.id, { status: 'running', stage: null }] as const));
  const reqs: GradeRequest[] = [];
  const unreadable: [string, Partial<Item>][] = [];
  // One file at a time: starting a read costs the page a round trip to the browser process, and
  // sixteen at once (two batches) made one long task of the click on "Grade".
  for (const { it, file } of batch) {
    try {
      const bytes = await file.arrayBuffer();
      const cur = get().items[it.id] ?? it;
      reqs.push({ id: it.id, name: cur.name, bytes, prompt: cur.prompt.trim() === '' ? null : cur.prompt });
    } catch (err) {
      const problem = toErrorInfo(
        new AgqgError('decode_failed', `${it.name} could not be read: ${(err as Error).message}`),
      );
      unreadable.push([it.id, { status: 'failed', problem }]);
    }
  }
  if (unreadable.length > 0) patchItems(unreadable);
  if (reqs.length === 0) return ids.length;
  const onProgress: ProgressFn = (p) => {
    if (p.kind === 'image') showStage(p.id, p.stage);
    else if (p.kind === 'backend') set({ backend: p.info, backendNote: p.note });
  };
  const sent = performance.now();
  const names = reqs.map((r) => r.name);
  const out = await scorer().gradeBatch(
    Comlink.transfer(
      reqs,
      reqs.map((r) => r.bytes),
    ),
    Comlink.proxy(onProgress),
  );
  if (!out.ok) {
    const cancelled = out.error.code === 'cancelled';
    patchItems(
      reqs.map(
        (r) =>
          [r.id, { status: cancelled ? 'cancelled' : 'failed', stage: null, problem: out.error }] as const,
      ),
    );
    return ids.length;
  }
  const back = performance.now();
  patchItems(out.value.map((g) => [g.id, gradedPatch(g)] as const));
  for (const [i, g] of out.value.entries()) {
    run.perImage.push({
      name: names[i],
      latencyMs: back - sent,
      stages: g.stages,
      timings: g.result.timings,
      error: g.result.error?.code ?? null,
    });
  }
  run.wallMs = performance.now() - t0;
  await saveItems(out.value.map((g) => get().items[g.id]));
  return ids.length;
}

/** Grades every staged image, in order: batches of batchSize() images, inFlight() of them outstanding. */
export async function gradeStaged(): Promise<void> {
  if (get().running) return;
  // The click's task only dispatches the click. Drawn in it, the batch as started (Cancel where Grade
  // was) made that input task restyle, lay out and hit-test the page again: 18 ms of CPU, which took
  // 77 ms when the wasm compiler's threads held both cores. The next task draws it; a second click
  // before then finds the batch running and does nothing.
  await nextTask();
  const s = get();
  if (s.running) return;
  if (s.packStatus !== 'ready') {
    setNotice({ kind: 'error', text: 'Load a model pack first.' });
    return;
  }
  const ids = s.order.filter((id) => s.items[id].status === 'staged');
  if (ids.length === 0) return;
  set({ running: true, cancelling: false, notice: null, runTotal: ids.length, runDone: 0 });
  // That task draws Cancel and the progress; the rows turning to "queued" and the first files being
  // read are the next task's.
  await nextTask();
  set((st) => {
    const items = { ...st.items };
    for (const id of ids) if (items[id]?.status === 'staged') items[id] = { ...items[id], status: 'queued' };
    return { items };
  });
  const size = batchSize();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  const run: RunStats = { batchSize: size, images: ids.length, wallMs: 0, perImage: [], done: false };
  publishRun(run);
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length && !get().cancelling) {
      const settled = await gradeItems(batches[next++], run, t0);
      set((st) => ({ runDone: st.runDone + settled }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight(), batches.length) }, lane));
  run.wallMs = performance.now() - t0;
  run.done = true;
  const cancelled = get().cancelling;
  set((st) => {
    const items = { ...st.items };
    // Images never sent stay in the list as cancelled, with their files, so they can be graded later.
    for (const id of ids)
      if (items[id]?.status === 'queued') items[id] = { ...items[id], status: 'cancelled' };
    return { items, running: false, cancelling: false };
  });
  if (cancelled) setNotice({ kind: 'info', text: 'Batch cancelled; finished results are kept.' });
}

export async function cancelBatch(): Promise<void> {
  if (!get().running) return;
  set({ cancelling: true });
  await scorer().cancel();
}

/** Puts cancelled (or edited) images back in the queue. */
export function restage(ids: readonly string[]): void {
  const items = get().items;
  patchItems(
    ids.filter((id) => items[id]?.file).map((id) => [id, { status: 'staged', problem: null }] as const),
  );
}

export async function regrade(id: string): Promise<void> {
  restage([id]);
  await gradeStaged();
}

/** Whether a new prompt can be graded for this image without its file (its embedding matches the loaded pack). */
export function canGradeFromEmbedding(it: Item, packKey: string | undefined): boolean {
  return it.features !== null && packKey !== undefined && it.packKey === packKey;
}

/**
 * Grades an image's (edited) prompt. The kept image embedding is used when the loaded pack and
 * weights made it; otherwise the image is graded again from its file, when the page still has it.
 */
export async function regradePrompt(id: string): Promise<void> {
  const s = get();
  const it = s.items[id];
  if (!it) return;
  if (s.pack && it.features && canGradeFromEmbedding(it, s.pack.packKey)) {
    patchItem(id, { regrading: true });
    const prompt = it.prompt.trim() === '' ? null : it.prompt;
    const out = await scorer().gradePrompt({
      name: it.name,
      prompt,
      features: it.features,
      packKey: s.pack.packKey,
    });
    if (!out.ok) {
      patchItem(id, { regrading: false });
      setNotice({ kind: 'error', text: `${it.name}: ${describe(out.error)}` });
      return;
    }
    patchItem(id, {
      regrading: false,
      result: out.value,
      status: out.value.error ? 'failed' : 'done',
      problem: null,
    });
    await saveItems([get().items[id]]);
    return;
  }
  if (it.file) {
    await regrade(id);
    return;
  }
  setNotice({
    kind: 'error',
    text: `${it.name} was graded with another pack or other weights, and this page no longer has the image: add it again to grade it.`,
  });
}

export { describe as describeError };
