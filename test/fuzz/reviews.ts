// Seeded AdmissionReviews for fuzzing the webhook: well-formed ones (compliant and not), malformed envelopes (each
// mutation makes the envelope something the apiserver never sends), and hostile bodies (sizes and shapes meant to
// exhaust memory). Each case carries what an independent oracle says of it, so a run can count allowed malformed
// envelopes and NET_RAW bypasses without asking podid's own rule. Used by bench/webhook-hostile.ts (30k reviews
// against the real process) and webhook/fuzz.test.ts (a smaller run in-process).

export type FuzzClass = 'valid' | 'malformed' | 'hostile';
export type FuzzEndpoint = '/mutate' | '/validate' | '/mutate-netraw' | '/mutate-workload-identity';

export interface FuzzCase {
  class: FuzzClass;
  endpoint: FuzzEndpoint;
  /** What the case is, for reports. */
  label: string;
  body: string;
  /** The independent oracle: a container adds NET_RAW/ALL or is privileged (never to be allowed by /validate). */
  grants: boolean;
  /** A container lacks a drop of NET_RAW or ALL in the exact spelling both runtimes honour. */
  undropped: boolean;
  /** The object is a Pod (not a workload template). */
  pod: boolean;
}

/** mulberry32: small, seeded, good enough to pick cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

const SECURITY: readonly (Record<string, unknown> | undefined)[] = [
  undefined,
  { capabilities: { drop: ['NET_RAW'] } },
  { capabilities: { drop: ['ALL'] } },
  { capabilities: { drop: ['net_raw'] } },
  { capabilities: { drop: ['CAP_NET_RAW'] } },
  { capabilities: { drop: [' NET_RAW '] } },
  { capabilities: { drop: ['cap_all'] } },
  { capabilities: { add: ['NET_RAW'], drop: ['ALL'] } },
  { capabilities: { add: ['cap_net_raw'], drop: ['ALL'] } },
  { capabilities: { add: ['all'], drop: ['NET_RAW'] } },
  { capabilities: { add: [' NET_RAW'], drop: ['ALL'] } },
  { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
  { privileged: true, capabilities: { drop: ['ALL'] } },
  { privileged: false, capabilities: { drop: ['ALL'] } },
  { capabilities: {} },
  { capabilities: { drop: [] } },
];

/** The oracle, written apart from podid's rule: exact spellings only, no normalisation beyond letter case. */
function judge(containers: Array<{ securityContext?: Record<string, any> }>): { grants: boolean; undropped: boolean } {
  let grants = false;
  let undropped = false;
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const add: unknown[] = Array.isArray(sc.capabilities?.add) ? sc.capabilities.add : [];
    const drop: unknown[] = Array.isArray(sc.capabilities?.drop) ? sc.capabilities.drop : [];
    if (sc.privileged === true || add.some((a) => typeof a === 'string' && /net_raw|all/i.test(a))) grants = true;
    if (!drop.some((d) => typeof d === 'string' && ['NET_RAW', 'ALL'].includes(d.toUpperCase()))) undropped = true;
  }
  return { grants, undropped };
}

const WORKLOADS = [
  { group: 'apps', kind: 'Deployment', resource: 'deployments' },
  { group: 'apps', kind: 'StatefulSet', resource: 'statefulsets' },
  { group: 'batch', kind: 'Job', resource: 'jobs' },
] as const;

function podSpec(r: Rand) {
  const n = 1 + Math.floor(r() * 3);
  const containers = Array.from({ length: n }, (_, i) => {
    const sc = pick(r, SECURITY);
    return { name: `c${i}`, image: 'example/app:1', env: [{ name: 'N', value: String(i) }], ...(sc ? { securityContext: sc } : {}) };
  });
  const initSecurity = pick(r, SECURITY);
  const init = r() < 0.2 ? [{ name: 'init', image: 'example/init:1', ...(initSecurity ? { securityContext: initSecurity } : {}) }] : [];
  return { containers, initContainers: init.length ? init : undefined };
}

interface Review {
  apiVersion: unknown;
  kind: unknown;
  request: Record<string, unknown>;
}

/** A review as the apiserver sends it: a Pod or a workload, CREATE or UPDATE, labeled or not. */
function wellFormed(r: Rand, i: number): { review: Review; containers: any[]; pod: boolean } {
  const spec = podSpec(r);
  const model = r();
  const labels: Record<string, string> =
    model < 0.4 ? { app: 'web', aadpodidbinding: 'web' } : model < 0.7 ? { app: 'web', 'azure.workload.identity/use': 'true' } : { app: 'web' };
  const asPod = r() < 0.6;
  const w = pick(r, WORKLOADS);
  const podObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'team-a', labels }, spec };
  const object = asPod
    ? podObject
    : {
        apiVersion: `${w.group}/v1`,
        kind: w.kind,
        metadata: { name: `w${i}`, namespace: 'team-a' },
        spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
      };
  const update = r() < 0.2;
  const gvk = asPod ? { group: '', version: 'v1', kind: 'Pod' } : { group: w.group, version: 'v1', kind: w.kind };
  const gvr = asPod ? { group: '', version: 'v1', resource: 'pods' } : { group: w.group, version: 'v1', resource: w.resource };
  const review: Review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      namespace: 'team-a',
      operation: update ? 'UPDATE' : 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object,
      // The stored object complied: whatever the update adds is introduced by it, so it is denied like a CREATE.
      oldObject: update ? compliantCopy(object) : null,
      dryRun: false,
    },
  };
  return { review, containers: [...spec.containers, ...(spec.initContainers ?? [])], pod: asPod };
}

/** `object` with every container dropping ALL and nothing added or privileged. */
function compliantCopy<T>(object: T): T {
  const copy = structuredClone(object) as any;
  const spec = copy.spec.template?.spec ?? copy.spec;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) c.securityContext = { capabilities: { drop: ['ALL'] } };
  return copy;
}

/** Values of the wrong JSON type for any field of the envelope. */
const JUNK: readonly unknown[] = [false, true, 0, 7, -1, '', 'x', [], [1, 2], {}, { group: 1 }, 'CREATE '];

/** Mutations that each make the envelope one the apiserver never sends. */
const BREAK: ReadonlyArray<[string, (rv: Review, r: Rand) => void]> = [
  [
    'kind not an object',
    (rv, r) =>
      (rv.request.kind = pick(
        r,
        JUNK.filter((j) => typeof j !== 'object' || Array.isArray(j)),
      )),
  ],
  ['kind missing', (rv) => delete rv.request.kind],
  ['kind without strings', (rv, r) => (rv.request.kind = { group: pick(r, [1, null, false]), version: 'v1', kind: 'Pod' })],
  ['kind.kind not a string', (rv, r) => (rv.request.kind = { ...(rv.request.kind as object), kind: pick(r, [false, 0, null, [], {}]) })],
  ['resource missing', (rv) => delete rv.request.resource],
  ['resource not an object', (rv, r) => (rv.request.resource = pick(r, ['pods', 1, false, []]))],
  ['operation missing', (rv) => delete rv.request.operation],
  ['operation unknown', (rv, r) => (rv.request.operation = pick(r, ['PATCH', 'create', 'Create', '', 'CREATE ', 'DELETEE', 0, false, null]))],
  ['uid missing or empty', (rv, r) => (r() < 0.5 ? delete rv.request.uid : (rv.request.uid = pick(r, ['', 0, false, {}])))],
  ['object missing', (rv) => delete rv.request.object],
  ['object not an object', (rv, r) => (rv.request.object = pick(r, ['pod', 1, false, [], null]))],
  ['namespace not a string', (rv, r) => (rv.request.namespace = pick(r, [1, false, [], {}]))],
  ['dryRun not a boolean', (rv, r) => (rv.request.dryRun = pick(r, ['true', 1, 'false', []]))],
  ['apiVersion wrong', (rv, r) => (rv.apiVersion = pick(r, ['admission.k8s.io/v1beta1', 'v1', undefined, 1]))],
  ['kind of the review wrong', (rv, r) => (rv.kind = pick(r, ['Pod', 'admissionreview', undefined, false]))],
  ['request not an object', (rv, r) => Object.assign(rv, { request: pick(r, [[], 'request', 1, false]) })],
  [
    'kind and resource disagree',
    (rv) => (rv.request.resource = { group: 'apps', version: 'v1', resource: (rv.request.kind as any)?.kind === 'Pod' ? 'deployments' : 'pods' }),
  ],
  ['namespace missing', (rv) => delete rv.request.namespace],
];

/** Bodies sized and shaped to exhaust memory; valid JSON, and valid envelopes where the shape allows. */
const HOSTILE: ReadonlyArray<[string, (i: number) => { body: string; containers: any[]; pod: boolean }]> = [
  [
    '10k compliant containers',
    (i) => {
      const containers = Array.from({ length: 10_000 }, (_, k) => ({ name: `c${k}`, image: 'x', securityContext: { capabilities: { drop: ['ALL'] } } }));
      return { body: JSON.stringify(reviewAround({ metadata: { name: `h${i}` }, spec: { containers } }, i)), containers, pod: true };
    },
  ],
  ['a 2.5 MB annotation', (i) => padded(i, 2.5e6)],
  ['a 4 MB body (over the limit)', (i) => padded(i, 4e6)],
  ['500k numbers in an array', (i) => rawInSpec(i, `[${'0,'.repeat(500_000)}0]`)],
  ['1M empty objects', (i) => rawInSpec(i, `[${'{},'.repeat(1_000_000)}{}]`)],
  ['nesting 50k deep', (i) => rawInSpec(i, `${'['.repeat(50_000)}${']'.repeat(50_000)}`)],
  [
    '10k env entries',
    (i) => {
      const containers = [
        {
          name: 'c',
          image: 'x',
          env: Array.from({ length: 10_000 }, (_, k) => ({ name: `E${k}`, value: 'v' })),
          securityContext: { capabilities: { drop: ['ALL'] } },
        },
      ];
      return { body: JSON.stringify(reviewAround({ metadata: { name: `h${i}` }, spec: { containers } }, i)), containers, pod: true };
    },
  ],
];

const COMPLIANT = [{ name: 'c', image: 'x', securityContext: { capabilities: { drop: ['ALL'] } } }];

function reviewAround(object: unknown, i: number): Review {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `hostile-${i}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'team-a',
      operation: 'CREATE',
      object,
      dryRun: false,
    },
  };
}

function padded(i: number, bytes: number) {
  const body = JSON.stringify(reviewAround({ metadata: { name: `h${i}`, annotations: { pad: 'x'.repeat(bytes) } }, spec: { containers: COMPLIANT } }, i));
  return { body, containers: COMPLIANT, pod: true };
}

/** A compliant pod with `raw` JSON under spec.extra (a field podid never reads). */
function rawInSpec(i: number, raw: string) {
  const text = JSON.stringify(reviewAround({ metadata: { name: `h${i}` }, spec: { containers: COMPLIANT, extra: '__RAW__' } }, i));
  return { body: text.replace('"__RAW__"', raw), containers: COMPLIANT, pod: true };
}

export interface FuzzMix {
  malformed: number;
  hostile: number;
}

/** The `i`-th case of the run seeded `seed`: deterministic, generated on demand (hostile bodies are megabytes). */
export function fuzzCase(seed: number, i: number, mix: FuzzMix = { malformed: 0.3, hostile: 0.02 }): FuzzCase {
  const r = prng(seed * 1_000_003 + i);
  const endpoint = pick<FuzzEndpoint>(r, ['/validate', '/validate', '/mutate', '/mutate-netraw', '/mutate-workload-identity']);
  const roll = r();
  if (roll < mix.hostile) {
    const [label, make] = pick(r, HOSTILE);
    const { body, containers, pod } = make(i);
    return { class: 'hostile', endpoint, label, body, pod, ...judge(containers) };
  }
  const { review, containers, pod } = wellFormed(r, i);
  if (roll < mix.hostile + mix.malformed) {
    const breaks = 1 + Math.floor(r() * 2);
    const labels: string[] = [];
    // Once `request` itself is broken there is nothing left inside it to break.
    for (let k = 0; k < breaks && review.request !== null && typeof review.request === 'object' && !Array.isArray(review.request); k++) {
      const [label, apply] = pick(r, BREAK);
      apply(review, r);
      labels.push(label);
    }
    return { class: 'malformed', endpoint, label: labels.join(' + '), body: JSON.stringify(review), pod, ...judge(containers) };
  }
  return {
    class: 'valid',
    endpoint,
    label: `${pod ? 'Pod' : 'workload'} ${review.request.operation}`,
    body: JSON.stringify(review),
    pod,
    ...judge(containers),
  };
}

/** What an answer to a case means: an allowed malformed envelope, a NET_RAW bypass, a server error, or fine. */
export type Verdict = 'ok' | 'allowed-malformed' | 'bypass' | 'server-error';

export function verdictOf(c: FuzzCase, status: number, body: any, mode: 'enforce' | 'fix'): Verdict {
  if (status >= 500 && status !== 503) return 'server-error';
  if (status === 503 && body?.error !== 'overloaded') return 'server-error';
  const allowed = status === 200 && body?.response?.allowed === true;
  if (!allowed) return 'ok';
  if (c.class === 'malformed') return 'allowed-malformed';
  if (c.endpoint !== '/validate') return 'ok';
  // Granting NET_RAW is never allowed; a missing drop is denied on Pods (in fix mode the fix-up webhook mends Pods
  // first, so /validate still sees the raw Pod here and must deny it), and on templates only in enforce mode.
  if (c.grants || (c.undropped && (mode === 'enforce' || c.pod))) return 'bypass';
  return 'ok';
}
