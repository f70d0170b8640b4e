// The worker's module state: the runtime, the loaded pack and its sessions, and the queues every
// call goes through. Every session creation and run goes through one SerialQueue.
import { AgqgError } from '../model/errors.ts';
import type { OpenedPack } from '../model/pack/pack.ts';
import type { PackScorer } from '../model/scoring/scorer.ts';
import { BusyClock } from './batch.ts';
import type { BackendChoice, OrtWebRuntime } from './ort-web.ts';
import type { VariantInUse } from './protocol.ts';
import { SerialQueue } from './queue.ts';

interface State {
  choice: BackendChoice;
  runtime: OrtWebRuntime | null;
  pack: OpenedPack | null;
  scorer: PackScorer | null;
  variant: VariantInUse | null;
  packKey: string;
}

export const queue = new SerialQueue();
/** Decoding runs outside the session queue (the next images decode during inference), one chunk at a time. */
export const decodeLane = new SerialQueue();
/** Inference time on this thread, left out of the decode times of images decoded meanwhile. */
export const inferenceBusy = new BusyClock();
export const state: State = {
  choice: 'auto',
  runtime: null,
  pack: null,
  scorer: null,
  variant: null,
  packKey: '',
};

/** The loaded pack's scorer; `purpose` ends the error when none is loaded ("grading", "embedding"). */
export function loadedScorer(purpose: string): PackScorer {
  if (!state.scorer) throw new AgqgError('internal', `no pack is loaded: load one before ${purpose}`);
  return state.scorer;
}
