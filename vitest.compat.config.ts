import { defineConfig } from 'vitest/config';

// The compatibility suite: real Azure clients (Node, Python, Go) against `podid sidecar` and NMI.
// `npm run test:compat` runs test/compat/setup.sh first to install and build the clients.
export default defineConfig({
  test: {
    include: ['test/compat/**/*.compat.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
