// With ?debug=1 the page puts a small developer API on window.__agqg: the raw
// encoder outputs of the loaded pack (the e2e parity test drives it, and it is
// handy for checking a pack against a Python reference). Off by default, so
// nothing on a normal page depends on it.
import * as Comlink from 'comlink';
import type { EmbedRequest } from '../worker/api.ts';
import { useStore } from './store.ts';
import { scorer } from './worker-client.ts';

export function exposeDebugApi(): void {
  const api = {
    /** Image and text embeddings from the loaded pack; image bytes are transferred (the caller's buffers are emptied). */
    embed: (req: EmbedRequest) => scorer().embed(Comlink.transfer(req, req.images ?? [])),
    backendInfo: () => scorer().backendInfo(),
    /** Which kind of task the worker's WASM runs start from, and how often slow runs moved them. */
    runContext: () => scorer().runContext(),
    /** Destroys the worker's WebGPU device (a simulated device loss); value false when none runs. */
    loseGpuDevice: () => scorer().loseGpuDevice(),
    /** The loaded pack's summary (variant in use, heads, backend). */
    pack: () => useStore.getState().pack,
  };
  (window as unknown as { __agqg?: typeof api }).__agqg = api;
}
