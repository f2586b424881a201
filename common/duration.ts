// Durations in flags: `500ms`, `10s`, `5m`, `1h`, Go/Kubernetes compounds like `1h30m` or `2m30.5s`, or a
// bare number of seconds.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

export function parseDurationMs(text: string, what = 'duration'): number {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  let ms = 0;
  let end = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(t); m; m = PART.exec(t)) {
    ms += Number(m[1]) * UNITS[m[2]!]!;
    end = PART.lastIndex;
  }
  if (!t || end !== t.length) throw new Error(`${what}: "${text}" is not a duration like 500ms, 10s, 5m, 1h or 1h30m`);
  return Math.round(ms);
}

/** Byte sizes in flags: `65536`, `512Ki`, `7Mi`. */
export function parseBytes(text: string, what = 'size'): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(text.trim());
  if (!m) throw new Error(`${what}: "${text}" is not a size like 65536, 512Ki or 7Mi`);
  const mult = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1;
  return Number(m[1]) * mult;
}
