import { defineConfig } from 'vitest/config';

// Metadata interception in network namespaces the test creates (root; iproute2 and iptables from Debian).
export default defineConfig({
  test: {
    include: ['test/netns/**/*.netns.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
