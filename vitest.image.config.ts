import { defineConfig } from 'vitest/config';

// The Dockerfile's build steps, carried out without a container engine (npm ci twice: about a minute).
export default defineConfig({ test: { include: ['test/image/**/*.image.ts'], testTimeout: 120_000 } });
