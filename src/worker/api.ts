// The worker's API, exposed with Comlink (scorer.worker.ts). The page gets its
// type from here (`ScorerApi = typeof api`), so the two cannot drift apart.
import { devApi } from './dev-api.ts';
import { productApi } from './product-api.ts';

export { productApi };

// The page imports the wire types from here, beside ScorerApi.
export type * from './protocol.ts';

/**
 * The one switch for the developer and benchmark methods (dev-api.ts): off, the worker exposes
 * the product API alone. On in every build, because the e2e tests and the benchmark drive the
 * built site through them; the page calls them only with ?debug=1 (src/ui/debug.ts).
 */
export const WITH_DEV_API = true;

/**
 * Everything the worker can expose: the product API and, behind WITH_DEV_API, the developer one
 * (switched off, the page's developer calls reject: Comlink finds no such method).
 */
export const api = { ...productApi, ...devApi };

export type ScorerApi = typeof api;
