import { afterAll, describe, expect, it } from 'vitest';
import { serverRegistry } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { closeServer } from './serve.ts';

let ready = false;
const running = await startMetricsServer({ host: '127.0.0.1', port: 0 }, serverRegistry('controller'), () => ready);
afterAll(() => closeServer(running.server));

describe('the plain-HTTP metrics and probe port', () => {
  it('serves the registry with podid_build_info and the unprefixed process metrics', async () => {
    const res = await fetch(`${running.url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/^podid_build_info\{version="[^"]+",component="controller",nodejs="[^"]+"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('answers /readyz as the server says, /healthz always', async () => {
    expect((await fetch(`${running.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  });

  it('anything else: a JSON 404 in podid’s error shape', async () => {
    const res = await fetch(`${running.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found', error_description: expect.stringContaining('/metrics') });
  });
});
