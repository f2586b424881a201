import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.ts';
import { AdmissionLog, admissionLineLevel, type AdmissionEntry } from './admission-log.ts';

const admitted: AdmissionEntry = {
  endpoint: 'mutate',
  uid: 'u1',
  kind: 'Pod',
  operation: 'CREATE',
  subject: 'demo/app',
  dryRun: false,
  result: 'injected',
  allowed: true,
  warnings: 0,
  ms: 0.2,
};

describe('admissionLineLevel: every denial, failure, warning and finding gets a line of its own', () => {
  it.each([
    ['admitted as planned', {}, 'debug'],
    ['admitted with a warning for the user', { warnings: 1 }, 'info'],
    ['denied', { allowed: false, result: 'denied' }, 'info'],
    ['NET_RAW findings', { details: ['container app: NET_RAW'], result: 'audited' }, 'warn'],
    ['the handler failed', { allowed: false, result: 'error' }, 'warn'],
    ['an empty details list is no finding', { details: [] }, 'debug'],
  ] as const)('%s → %s', (_name, change, level) => {
    expect(admissionLineLevel({ ...admitted, ...change })).toBe(level);
  });
});

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('webhook', level, sink) };
}

describe('AdmissionLog', () => {
  it('counts admissions without a line of their own into one summary line, and logs the rest one by one', async () => {
    const { lines, logger } = capture('info');
    const log = new AdmissionLog(logger, 3_600_000);
    log.record(admitted);
    log.record(admitted);
    log.record({ ...admitted, endpoint: 'validate', result: 'allowed' });
    log.record({ ...admitted, allowed: false, result: 'denied', subject: 'demo/bad' });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.subject])).toEqual([['admission', 'demo/bad']]);
    log.close();
    await new Promise((r) => setImmediate(r));
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'admissions', counts: { 'mutate/injected': 2, 'validate/allowed': 1 } });
    log.flush();
    expect(lines).toHaveLength(2);
  });

  it('writes every admission at debug level, still counted', async () => {
    const { lines, logger } = capture('debug');
    const log = new AdmissionLog(logger, 3_600_000);
    log.record(admitted);
    log.close();
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['debug', 'admission'],
      ['info', 'admissions'],
    ]);
  });
});
