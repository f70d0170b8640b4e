// The one scorer worker of the page, from the package's browser entry (typed from the worker's own API).
import type * as Comlink from 'comlink';
import { connectScorerWorker, type ScorerApi } from '../lib/browser/index.ts';

let remote: Comlink.Remote<ScorerApi> | null = null;

export function scorer(): Comlink.Remote<ScorerApi> {
  remote ??= connectScorerWorker().api;
  return remote;
}
