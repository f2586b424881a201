// podid's version, from package.json: one level up from common/ in a checkout, two from dist/common/ when built.

import { existsSync, readFileSync } from 'node:fs';

let cached: string | undefined;

export function podidVersion(): string {
  if (cached) return cached;
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return (cached = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version);
  }
  return (cached = 'unknown');
}
