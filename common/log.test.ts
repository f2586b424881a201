import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';

describe('the log schema', () => {
  it('time (ISO 8601), level by name, component, msg, fields; secrets redacted', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger('nmi', 'info', sink).warn(
      { pod: 'apps/web', token: 'eyJ-secret', err: { clientSecret: 'hunter2' }, headers: { authorization: 'Bearer x' } },
      'refused',
    );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line).slice(0, 2).sort()).toEqual(['level', 'time']);
    expect(line).toMatchObject({ level: 'warn', component: 'nmi', msg: 'refused', pod: 'apps/web', token: '[redacted]' });
    expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines[0]).not.toMatch(/hunter2|eyJ-secret|Bearer x/);
    expect(line).not.toHaveProperty('name');
  });
});
