// Measurements on the whole AGIQA-3K pool (minutes each): `npm run test:measure`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/measure/**/*.test.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
    maxWorkers: 1,
  },
});
