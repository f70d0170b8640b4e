import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Full-pool measurements (minutes each) run with `npm run test:measure`, not in `npm test`.
    exclude: ['test/measure/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: onnxruntime and image decoding are CPU bound, more workers only thrash.
    maxWorkers: 2,
  },
});
