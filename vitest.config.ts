import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      '{identity,tokens,webhook,sidecar,nmi,certs,policies,cli,common,migrate,controller,explain,charts,podspec,aad,emulators,build}/**/*.test.ts',
      'test/unit/**/*.test.ts',
    ],
    testTimeout: 20_000,
  },
});
