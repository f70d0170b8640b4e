// The one scorer worker of the page, wrapped with Comlink and typed from the worker's own API object.
import * as Comlink from 'comlink';
import type { ScorerApi } from '../worker/api.ts';

let remote: Comlink.Remote<ScorerApi> | null = null;

export function scorer(): Comlink.Remote<ScorerApi> {
  if (!remote) {
    const worker = new Worker(new URL('../worker/scorer.worker.ts', import.meta.url), {
      type: 'module',
      name: 'agqg-scorer',
    });
    remote = Comlink.wrap<ScorerApi>(worker);
  }
  return remote;
}
