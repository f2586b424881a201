import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import fjp from 'fast-json-patch';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert, type CertPair } from '../certs/generate.ts';
import { admissionReviewFor, sampleLabeledPod } from '../cli/demo-samples.ts';
import { createLogger } from '../common/log.ts';
import { defaultInjectionConfig } from './injection-config.ts';
import type { Pod } from '../podspec/pod.ts';
import { defaultValidationConfig } from './validation-config.ts';
import { DEFAULT_ADMISSION_LIMITS } from './app.ts';
import { startWebhook, type RunningWebhook } from './server.ts';

const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _enc, cb) {
    logLines.push(String(chunk));
    cb();
  },
});

function issue(ca: CertPair): CertPair {
  return createServingCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 2 });
}

let dir: string;
let ca: CertPair;
let webhook: RunningWebhook;
const files = () => ({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-webhook-test-'));
  ca = createCA({ commonName: 'test CA', validityDays: 2 });
  const serving = issue(ca);
  await writeFile(files().certFile, serving.certPem);
  await writeFile(files().keyFile, serving.keyPem);
  webhook = await startWebhook(
    {
      listen: { host: '127.0.0.1', port: 0 },
      tls: files(),
      tlsReloadMs: 3_600_000,
      limits: { ...DEFAULT_ADMISSION_LIMITS, maxRequestBytes: 64 * 1024 },
      injection: defaultInjectionConfig,
      validation: defaultValidationConfig,
    },
    createLogger('webhook', 'debug', logSink),
  );
});

afterAll(async () => {
  await webhook?.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (path: string) => request(webhook.url).post(path).ca(ca.certPem).set('content-type', 'application/json');
const decode = (patch: string) => JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));

describe('POST /mutate over HTTPS', () => {
  it('injects into a labeled pod and echoes the uid', async () => {
    const pod = sampleLabeledPod();
    const res = await post('/mutate').send(admissionReviewFor(pod)).expect(200);
    expect(res.body).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(res.body.response).toMatchObject({ uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816', allowed: true, patchType: 'JSONPatch' });
    const mutated = fjp.applyPatch(structuredClone(pod), decode(res.body.response.patch), true, false).newDocument as Pod;
    expect(mutated.spec.initContainers?.[0]).toMatchObject({ name: 'podid-token', restartPolicy: 'Always' });

    const again = await post('/mutate').send(admissionReviewFor(mutated)).expect(200);
    expect(again.body.response).toEqual({ uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816', allowed: true });
  });

  it('keeps the secret header out of the logs, even at debug where every admission has a line with its uid', async () => {
    const pod = sampleLabeledPod('log-check');
    const res = await post('/mutate')
      .send(admissionReviewFor(pod, { uid: 'uid-log-check' }))
      .expect(200);
    const mutated = fjp.applyPatch(pod, decode(res.body.response.patch), true, false).newDocument as Pod;
    const header = mutated.spec.initContainers![0]!.env!.find((e) => e.name === 'PODID_IDENTITY_HEADER')!.value!;
    expect(header.length).toBeGreaterThanOrEqual(32);
    const lines = logLines.join('');
    expect(lines).toContain('"uid":"uid-log-check"');
    expect(lines).toContain('"result":"injected"');
    expect(lines).not.toContain(header);
  });

  const allowedUnchanged: Array<[string, Record<string, unknown>]> = [
    ['an unlabeled pod', admissionReviewFor({ metadata: { name: 'plain' }, spec: { containers: [{ name: 'a', image: 'x' }] } })],
    [
      'a Deployment',
      admissionReviewFor(
        { spec: {} },
        { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } },
      ),
    ],
    ['an UPDATE', admissionReviewFor(sampleLabeledPod(), { operation: 'UPDATE', oldObject: sampleLabeledPod() })],
    ['a subresource', admissionReviewFor({}, { subResource: 'status' })],
  ];
  it.each(allowedUnchanged)('allows %s unchanged', async (_name, body) => {
    const res = await post('/mutate').send(body).expect(200);
    expect(res.body.response).toEqual({ uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816', allowed: true });
  });

  it('treats dryRun like any request (the mutation has no side effects)', async () => {
    const res = await post('/mutate')
      .send(admissionReviewFor(sampleLabeledPod(), { dryRun: true }))
      .expect(200);
    expect(res.body.response.patchType).toBe('JSONPatch');
  });

  const badEnvelopes: Array<[string, string | Record<string, unknown>, number, string]> = [
    ['not JSON', '{"apiVersion": ', 400, 'the request body is not valid JSON'],
    ['a JSON string', '"hello"', 400, 'not valid JSON'],
    [
      'wrong apiVersion',
      { ...admissionReviewFor({}), apiVersion: 'admission.k8s.io/v1beta1' },
      400,
      'expected apiVersion admission.k8s.io/v1, got "admission.k8s.io/v1beta1"',
    ],
    ['wrong kind', { ...admissionReviewFor({}), kind: 'Pod' }, 400, 'expected kind AdmissionReview, got "Pod"'],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 400, 'the AdmissionReview has no request'],
    ['no uid', admissionReviewFor({}, { uid: '' }), 400, 'request.uid is missing'],
    ['a body over the limit', admissionReviewFor({ pad: 'x'.repeat(70 * 1024) }), 413, 'the request body is larger than 65536 bytes'],
    ['an empty body', '', 400, 'not valid JSON'],
  ];
  it.each(badEnvelopes)('answers %s with a JSON error', async (_name, body, status, message) => {
    const res = await post('/mutate')
      .send(typeof body === 'string' ? body : JSON.stringify(body))
      .expect(status);
    expect(res.body.message).toContain(message);
    expect(res.body.error).toMatch(/^[a-z_]+$/);
  });

  it.each(['gzip', 'br', 'deflate', 'compress', 'x-made-up'])('refuses Content-Encoding %s with a JSON 415', async (encoding) => {
    const res = await post('/mutate').set('content-encoding', encoding).send('\u001f\u008b not really compressed').expect(415);
    expect(res.body).toMatchObject({ error: 'unsupported_encoding' });
    expect(res.body.message).toContain(`Content-Encoding "${encoding}" is not accepted`);
  });

  it('refuses a charset other than UTF-8 with a JSON 415', async () => {
    const res = await request(webhook.url)
      .post('/mutate')
      .ca(ca.certPem)
      .set('content-type', 'application/json; charset=latin1')
      .send(JSON.stringify(admissionReviewFor(sampleLabeledPod())))
      .expect(415);
    expect(res.body).toEqual({ error: 'unsupported_encoding', message: 'charset "latin1" is not accepted; send the AdmissionReview as UTF-8 JSON' });
    await request(webhook.url)
      .post('/mutate')
      .ca(ca.certPem)
      .set('content-type', 'application/json; charset=UTF-8')
      .send(JSON.stringify(admissionReviewFor(sampleLabeledPod())))
      .expect(200);
  });

  const badPods: Array<[string, unknown, string]> = [
    ['no spec', { metadata: { name: 'p', labels: { aadpodidbinding: 'x' } } }, 'spec is required and must be an object'],
    ['containers not an array', { spec: { containers: {} } }, 'spec.containers must be an array'],
    ['no containers', { spec: { containers: [] } }, 'spec.containers must not be empty'],
    ['a container without a name', { spec: { containers: [{ image: 'x' }] } }, 'spec.containers[0].name must be a non-empty string'],
    ['env not an array', { spec: { containers: [{ name: 'a', env: 'X=1' }] } }, 'spec.containers[0].env must be an array'],
    [
      'labels not strings',
      { metadata: { labels: { aadpodidbinding: 1 } }, spec: { containers: [{ name: 'a' }] } },
      'metadata.labels["aadpodidbinding"] must be a string',
    ],
  ];
  it.each(badPods)('explains a pod with %s in the AdmissionReview status', async (_name, object, message) => {
    const res = await post('/mutate').send(admissionReviewFor(object)).expect(200);
    expect(res.body.response).toEqual({
      uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816',
      allowed: false,
      status: { code: 400, reason: 'BadRequest', message: `podid could not read the pod: ${message}` },
    });
  });

  it('still serves after all of that, and counts it', async () => {
    await request(webhook.url).get('/healthz').ca(ca.certPem).expect(200, { status: 'ok' });
    await request(webhook.url).get('/readyz').ca(ca.certPem).expect(200, { status: 'ready' });
    const metrics = await request(webhook.url).get('/metrics').ca(ca.certPem).expect(200);
    expect(metrics.text).toMatch(/podid_admission_requests_total\{endpoint="mutate",result="injected"\} [1-9]/);
    expect(metrics.text).toMatch(/podid_admission_requests_total\{endpoint="mutate",result="bad-request"\} [1-9]/);
    expect(metrics.text).toMatch(/podid_admission_requests_total\{endpoint="mutate",result="invalid"\} [1-9]/);
    expect(metrics.text).toContain('podid_admission_duration_seconds_bucket');
  });

  it('denies a pod without the NET_RAW drop at /validate, and allows it after the fix', async () => {
    const pod = sampleLabeledPod();
    const good = await post('/validate').send(admissionReviewFor(pod)).expect(200);
    delete pod.spec.containers[0]!.securityContext;
    const bad = await post('/validate').send(admissionReviewFor(pod)).expect(200);
    expect(bad.body.response).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(bad.body.response.status.message).toContain('container "app" does not drop NET_RAW');
    expect(good.body.response).toEqual({ uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816', allowed: true });
    await post('/validate').send('nope').expect(400);
    expect(logLines.join('')).toContain('"details":["container \\"app\\" does not drop NET_RAW');
  });

  it.each([
    ['GET', '/nope'],
    ['GET', '/mutate'],
    ['POST', '/healthz'],
  ])('answers %s %s with a JSON 404', async (method, path) => {
    const res = await request(webhook.url)[method === 'GET' ? 'get' : 'post'](`${path}?q=1`).ca(ca.certPem).expect(404);
    expect(res.body).toEqual({
      error: 'not_found',
      message: `no route for ${method} ${path}; podid serves POST /mutate, POST /validate, POST /mutate-netraw`,
    });
  });

  it('answers HEAD on the probes', async () => {
    await request(webhook.url).head('/livez').ca(ca.certPem).expect(200);
  });

  it('refuses plain HTTP clients at the TLS layer', async () => {
    await expect(request(webhook.url.replace('https:', 'http:')).get('/healthz').timeout(2000)).rejects.toThrow();
  });
});

function peerCertificate(url: string, caPem: string): Promise<X509Certificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: caPem, servername: 'localhost' }, () => {
      resolve(new X509Certificate(socket.getPeerX509Certificate()!.raw));
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('certificate reload', () => {
  it('serves a rotated certificate to new connections without a restart', async () => {
    const before = await peerCertificate(webhook.url, ca.certPem);
    const next = issue(ca);
    await writeFile(files().keyFile, next.keyPem);
    // Half-written pair: the new key with the old certificate must be rejected, not served.
    expect(await webhook.tls.check()).toBe(false);
    await writeFile(files().certFile, next.certPem);
    expect(await webhook.tls.check()).toBe(true);
    const after = await peerCertificate(webhook.url, ca.certPem);
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    expect(after.fingerprint256).toBe(new X509Certificate(next.certPem).fingerprint256);
    expect(await webhook.tls.check()).toBe(false);
    const metrics = await request(webhook.url).get('/metrics').ca(ca.certPem).expect(200);
    expect(metrics.text).toContain('podid_tls_reloads_total{result="loaded"} 1');
    expect(metrics.text).toContain('podid_tls_reloads_total{result="rejected"} 1');
  });
});
