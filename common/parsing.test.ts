import { describe, expect, it } from 'vitest';
import { parseBytes, parseDurationMs } from './duration.ts';
import { parseListen, urlHost } from './listen.ts';

describe('parseListen', () => {
  const ok: Array<[string, { host?: string; port: number }]> = [
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443 }],
    [':8443', { host: undefined, port: 8443 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ];
  it.each(ok)('reads %s', (text, want) => expect(parseListen(text)).toEqual(want));
  it.each(['8443', '127.0.0.1', '1.2.3.4:99999', '::1:80', 'a:b'])('rejects %s', (text) => expect(() => parseListen(text, '--listen')).toThrow(/--listen/));
  it('brackets IPv6 hosts in URLs', () => {
    expect(urlHost('fd00::1')).toBe('[fd00::1]');
    expect(urlHost('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('durations and sizes', () => {
  const d: Array<[string, number]> = [
    ['500ms', 500],
    ['10s', 10_000],
    ['10', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
  ];
  it.each(d)('%s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
  it('rejects junk', () => expect(() => parseDurationMs('10 days', '--x')).toThrow('--x: "10 days" is not a duration'));
  const b: Array<[string, number]> = [
    ['65536', 65536],
    ['512Ki', 524288],
    ['7Mi', 7340032],
  ];
  it.each(b)('%s', (text, n) => expect(parseBytes(text)).toBe(n));
  it('rejects bad sizes', () => expect(() => parseBytes('7MB')).toThrow('is not a size'));
});
