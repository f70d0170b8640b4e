// Milliseconds for timings, from the host's monotonic clock where there is one
// (browsers, workers and Node all have performance.now; the pure core has no lib types for it).
const perf = (globalThis as { performance?: { now(): number } }).performance;

export const nowMs: () => number = perf ? () => perf.now() : () => Date.now();
