// Node's built-in modules as the per-pod sidecar loads them: through process.getBuiltinModule, not an ESM
// `import`. An ESM import of a built-in builds its ESM facade, which evaluates every export getter of the module:
// node:http's loads undici (fetch, WebSocket), ~15 MB of resident memory in each process (measured on Node 24:
// 45 → 60 MB); node:crypto's and node:fs's cost ~8 and ~6 ms of the sidecar's start (a startup CPU profile).
// https and crypto are loaded on first use.
// Modules the sidecar uses take these from here.

export const http = process.getBuiltinModule('node:http');
export const fs = process.getBuiltinModule('node:fs');

/** node:crypto, loaded on first use (~10 ms of start-up otherwise; the sidecar needs it for its first request). */
let cryptoModule: typeof import('node:crypto') | undefined;
export function crypto(): typeof import('node:crypto') {
  return (cryptoModule ??= process.getBuiltinModule('node:crypto'));
}

let httpsModule: typeof import('node:https') | undefined;
export function https(): typeof import('node:https') {
  return (httpsModule ??= process.getBuiltinModule('node:https'));
}
