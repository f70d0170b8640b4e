// End-to-end tests: the built site in headless Chromium (playwright-core).
// Run: npx vitest run -c vitest.e2e.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    globalSetup: ['e2e/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // One browser at a time: 2 cores, and onnxruntime-web uses both.
    fileParallelism: false,
    maxWorkers: 1,
  },
});
