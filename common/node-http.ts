// node:http and node:https loaded through require(). An ESM `import` of node:http evaluates every export
// getter of the module, which loads undici (fetch, WebSocket) and costs ~15 MB of resident memory in each
// process (measured on Node 24: 45 → 60 MB). That matters for the per-pod sidecar, so modules it uses take
// http from here; https is loaded only when first used.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof import('node:http');

let httpsModule: typeof import('node:https') | undefined;
export function https(): typeof import('node:https') {
  return (httpsModule ??= require('node:https') as typeof import('node:https'));
}
