// Entry of a decode worker thread. Workers do not share the main thread's
// module hooks, so this plain-JS entry registers tsx before loading the
// TypeScript worker body (as bin/agqg.js does for the main thread).
import { register } from 'tsx/esm/api';

register();
await import('./decode-worker.ts');
