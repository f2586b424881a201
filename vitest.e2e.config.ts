import { defineConfig } from 'vitest/config';

// End-to-end suites: a real etcd + kube-apiserver + kube-controller-manager (test/cluster), shared by all files.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 900_000,
  },
});
