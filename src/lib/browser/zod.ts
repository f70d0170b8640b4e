// What `zod` resolves to in the site's build (vite.config.ts aliases it): zod itself, set jitless
// first. ES modules evaluate their imports in order, so no schema exists before the config runs.
import './zod-jitless.ts';

export * from 'zod/v4';
export { z, default } from 'zod/v4';
