// podid's version, from package.json: one level up from common/ in a checkout, one from dist/ when bundled.

import { fs } from './builtins.ts';

let cached: string | undefined;

export function podidVersion(): string {
  if (cached) return cached;
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (fs.existsSync(url)) return (cached = (JSON.parse(fs.readFileSync(url, 'utf8')) as { version: string }).version);
  }
  return (cached = 'unknown');
}
