import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every unit and HTTP test beside its code; the heavier suites end .e2e.ts, .compat.ts, .netns.ts, .image.ts.
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '.cache/**', 'dist/**'],
    testTimeout: 20_000,
  },
});
