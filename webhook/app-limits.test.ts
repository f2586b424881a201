// The admission app's bounds on memory: a body declared too large is refused before it is read, bodies in flight are
// bounded across requests (a line with a bounded wait, then 503), and JSON that would parse into far more than a pod
// is refused before it is parsed. On plain HTTP: the bounds are the app's, not TLS's.

import { createServer, request, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { createLogger } from '../common/log.ts';
import { DEFAULT_ADMISSION_LIMITS, createWebhookApp } from './app.ts';
import { defaultInjectionConfig } from './injection-config.ts';
import { createWebhookMetrics } from './metrics.ts';
import { defaultValidationConfig } from './validation-config.ts';

const limits = {
  ...DEFAULT_ADMISSION_LIMITS,
  maxRequestBytes: 64 * 1024,
  maxInflightBytes: 100 * 1024,
  maxInflightWaitMs: 300,
  json: { maxDepth: 64, maxValues: 5000 },
};
let server: Server;
let base: string;

beforeAll(async () => {
  const app = createWebhookApp({
    injection: { ...defaultInjectionConfig, sidecarImage: 'podid:test' },
    validation: { ...defaultValidationConfig, mode: 'enforce' },
    limits,
    logger: createLogger('webhook', 'silent'),
    metrics: createWebhookMetrics(),
    ready: () => true,
  });
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** Starts a POST declaring `length` bytes and writes `first` of them; `finish` writes the rest. */
function startPost(path: string, length: number, first: Buffer): { req: ClientRequest; answer: Promise<Answer>; finish(rest: Buffer): void } {
  const req = request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': length } });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  req.write(first);
  return { req, answer, finish: (rest) => req.end(rest) };
}

const post = (path: string, body: string) => {
  const buf = Buffer.from(body);
  const p = startPost(path, buf.length, buf);
  p.finish(Buffer.alloc(0));
  return p.answer;
};

/** A review padded (in an annotation, which podid never reads) to exactly `size` bytes. */
function reviewOfSize(size: number): Buffer {
  const pod = sampleLabeledPod();
  const r = admissionReviewFor({ ...pod, metadata: { ...pod.metadata, annotations: { pad: '' } } });
  const text = JSON.stringify(r);
  return Buffer.from(text.replace('"pad":""', `"pad":"${'x'.repeat(size - text.length)}"`));
}

describe('admission memory bounds', () => {
  it('refuses a body declared over --max-request-bytes with 413 before reading it', async () => {
    const p = startPost('/validate', 10 * 1024 * 1024, Buffer.from('{"apiVersion":'));
    const answer = await p.answer;
    p.req.destroy();
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({ error: 'request_too_large', message: 'the request body is larger than 65536 bytes' });
  });

  it('holds a request in line while the bytes in flight are used, answers 503 with Retry-After after the wait, then serves again', async () => {
    const big = reviewOfSize(60 * 1024);
    // 60 KiB declared and half sent: reserved until it is answered.
    const slow = startPost('/validate', big.length, big.subarray(0, 30 * 1024));
    await new Promise((r) => setTimeout(r, 50));
    const second = reviewOfSize(50 * 1024);
    const started = Date.now();
    const refused = await post('/validate', second.toString());
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.error).toBe('overloaded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(limits.maxInflightWaitMs - 20);
    // A small review fits beside the held one (60 + 3 KiB < 100 KiB): the line is empty again.
    const small = await post('/validate', JSON.stringify(admissionReviewFor(sampleLabeledPod())));
    expect(small.status).toBe(200);
    slow.finish(big.subarray(30 * 1024));
    expect((await slow.answer).status).toBe(200);
    // Once the held bytes are back, the large one is served.
    expect((await post('/validate', second.toString())).status).toBe(200);
  });

  it('lets a waiting request through when room comes back inside the wait', async () => {
    const big = reviewOfSize(60 * 1024);
    const slow = startPost('/validate', big.length, big.subarray(0, 1024));
    await new Promise((r) => setTimeout(r, 50));
    const waiting = post('/validate', reviewOfSize(50 * 1024).toString());
    setTimeout(() => slow.finish(big.subarray(1024)), 100);
    expect((await waiting).status).toBe(200);
    expect((await slow.answer).status).toBe(200);
  });

  const shapes: Array<[string, string, string]> = [
    [
      'many empty objects',
      `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"x":[${'{},'.repeat(6000)}{}]}}`,
      'the JSON holds more than 5000 values',
    ],
    ['deep nesting', `{"request":${'['.repeat(100)}${']'.repeat(100)}}`, 'the JSON nests deeper than 64 levels'],
  ];
  it.each(shapes)('refuses %s with 400 before parsing it', async (_name, body, message) => {
    const answer = await post('/validate', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('bad_request');
    expect(answer.body.message).toContain(message);
  });

  it('denies a pod of more containers than podid reads, naming the field', async () => {
    const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, securityContext: { capabilities: { drop: ['ALL'] } } }));
    const answer = await post('/validate', JSON.stringify(admissionReviewFor({ metadata: { name: 'p' }, spec: { containers } })));
    expect(answer.status).toBe(200);
    expect(answer.body.response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(answer.body.response.status.message).toContain('spec has 300 containers; podid reads at most 256 per pod');
  });
});
