// NMI's Kubernetes side (@kubernetes/client-node): informers that fill the pod index and the identity
// store, TokenReview for sidecar callers, Secrets for service principals, and the AzureAssignedIdentity
// writer. Everything decided here comes from the pure modules beside it.

import { ApiException, AuthenticationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { withRetry } from '../common/kube-retry.ts';
import { nameOf, runWatches, type Meta, type Watch } from '../common/kube-watch.ts';
import { errnoSuffix, unavailable } from '../common/http-error.ts';
import type { Logger } from '../common/log.ts';
import { API_GROUP, API_VERSION } from '../identity/crds.ts';
import type { Parsed } from '../identity/fields.ts';
import { parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from '../identity/parse.ts';
import { adoptionPatch, assignmentObject, NODE_LABEL } from '../identity/assigned.ts';
import type { AssignmentStates } from './assignment-gate.ts';
import { planAssignments, planTakeover, type Assignment, type ForeignAssignment } from './assignments.ts';
import { callerFromReview, type Reviewer } from './caller.ts';
import type { PodEvents } from './events.ts';
import type { IdentityStore } from '../identity/store.ts';
import { toNodePod, type PodIndex } from './pod-index.ts';
import { CredentialError, type SecretData } from './sp-credentials.ts';

export function kubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

/**
 * Watches of the three podid CRDs into `store`; objects that do not parse are logged and left out. NMI, the webhook
 * and the controller run them with `runWatches`.
 */
export function identityWatches(kc: KubeConfig, store: IdentityStore, log: Logger): Watch<Meta>[] {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const invalid = (kind: string, o: Meta, errors: { field: string; message: string }[]) =>
    log.warn({ kind, object: `${nameOf(o).namespace}/${nameOf(o).name}`, errors: errors.map((e) => `${e.field}: ${e.message}`) }, 'ignoring invalid object');
  function crdWatch<T>(
    plural: string,
    kind: string,
    parse: (o: unknown) => Parsed<T>,
    upsert: (v: T) => void,
    remove: (namespace: string, name: string) => void,
  ): Watch<Meta> {
    return {
      path: `/apis/${API_GROUP}/${API_VERSION}/${plural}`,
      list: async () => (await custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })) as { items: Meta[] },
      upsert: (o) => {
        const r = parse(o);
        if (r.ok) upsert(r.value);
        else invalid(kind, o, r.errors);
      },
      remove: (o) => remove(nameOf(o).namespace, nameOf(o).name),
    };
  }
  return [
    // prettier-ignore
    crdWatch('azureidentities', 'AzureIdentity', parseAzureIdentity, (v) => store.upsertIdentity(v), (ns, n) => store.removeIdentity(ns, n)),
    // prettier-ignore
    crdWatch('azureidentitybindings', 'AzureIdentityBinding', parseAzureIdentityBinding, (v) => store.upsertBinding(v), (ns, n) => store.removeBinding(ns, n)),
    // prettier-ignore
    crdWatch('azurepodidentityexceptions', 'AzurePodIdentityException', parseAzurePodIdentityException, (v) => store.upsertException(v), (ns, n) => store.removeException(ns, n)),
  ];
}

/** The podid objects of one CRD (one namespace, or all), parsed; objects that do not parse are left out. */
export async function listParsed<T>(kc: KubeConfig, plural: string, parse: (o: unknown) => Parsed<T>, namespace?: string): Promise<T[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ref = { group: API_GROUP, version: API_VERSION, plural };
  const res = (await withRetry(() => (namespace ? custom.listNamespacedCustomObject({ ...ref, namespace }) : custom.listClusterCustomObject(ref)))) as {
    items: unknown[];
  };
  return res.items.flatMap((o) => {
    const r = parse(o);
    return r.ok ? [r.value] : [];
  });
}

/** One node's pods into its PodIndex. */
export function nodePodWatch(kc: KubeConfig, n: { name: string; pods: PodIndex }): Watch<unknown> {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    path: '/api/v1/pods',
    fieldSelector: `spec.nodeName=${n.name}`,
    list: () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${n.name}` }),
    upsert: (o) => {
      const p = toNodePod(o);
      if (p) n.pods.upsert(p);
    },
    remove: (o) => n.pods.remove(nameOf(o as Meta).namespace, nameOf(o as Meta).name),
  };
}

/**
 * Starts the informers of the three podid CRDs (into `store`) and, with `node`, of that node's pods; resolves once
 * every initial list is in. `onChange` fires after any event. NMI watches both; the webhook only the CRDs.
 */
export function startInformers(
  kc: KubeConfig,
  store: IdentityStore,
  log: Logger,
  onChange: () => void,
  node?: { name: string; pods: PodIndex },
  extra: readonly Watch<any>[] = [],
): Promise<() => void> {
  return runWatches(kc, [...(node ? [nodePodWatch(kc, node)] : []), ...identityWatches(kc, store, log), ...extra], log, onChange);
}

/** Standard mode: this node's AzureAssignedIdentity statuses (written by podid-controller). */
export function nodeAssignmentWatch(kc: KubeConfig, nodeName: string, states: AssignmentStates): Watch<unknown> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const labelSelector = `${NODE_LABEL}=${nodeName}`;
  const status = (o: unknown) => {
    const st = (o as { status?: { status?: unknown } }).status?.status;
    return typeof st === 'string' ? st : undefined;
  };
  return {
    path: `/apis/${API_GROUP}/${API_VERSION}/azureassignedidentities`,
    labelSelector,
    list: async () =>
      (await custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'azureassignedidentities', labelSelector })) as {
        items: unknown[];
      },
    upsert: (o) => states.set(nameOf(o as Meta).namespace, nameOf(o as Meta).name, status(o)),
    remove: (o) => states.remove(nameOf(o as Meta).namespace, nameOf(o as Meta).name),
  };
}

/** TokenReview with the audience podid's sidecars present. */
export function kubeReviewer(kc: KubeConfig, audience: string, count?: (result: 'authenticated' | 'rejected' | 'error') => void): Reviewer {
  const auth = kc.makeApiClient(AuthenticationV1Api);
  return {
    async review(token) {
      let review;
      try {
        review = await auth.createTokenReview({
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } },
        });
      } catch (err) {
        count?.('error');
        throw unavailable(503, `TokenReview failed${err instanceof ApiException ? ` (HTTP ${err.code})` : errnoSuffix(err)}; cannot authenticate the caller`, {
          cause: err,
          retryAfterSeconds: 2,
        });
      }
      try {
        const caller = callerFromReview(review.status, audience);
        count?.('authenticated');
        return caller;
      } catch (err) {
        count?.('rejected');
        throw err;
      }
    },
  };
}

export function kubeSecrets(kc: KubeConfig): (ref: { name: string; namespace: string }) => Promise<SecretData> {
  const core = kc.makeApiClient(CoreV1Api);
  return async (ref) => {
    let secret;
    try {
      secret = await core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace });
    } catch (err) {
      throw new CredentialError(
        err instanceof ApiException && err.code === 404 ? 'not found' : `cannot be read (${err instanceof ApiException ? err.code : 'error'})`,
        { cause: err },
      );
    }
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  };
}

/** Brings this node's AzureAssignedIdentity objects in line with `desired`. */
export async function syncAssignments(kc: KubeConfig, nodeName: string, desired: Assignment[], log: Logger): Promise<{ created: number; removed: number }> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const base = { group: API_GROUP, version: API_VERSION, plural: 'azureassignedidentities' };
  const list = (await custom.listClusterCustomObject({ ...base, labelSelector: `${NODE_LABEL}=${nodeName}` })) as { items: Meta[] };
  const plan = planAssignments(desired, list.items.map(nameOf));
  for (const a of plan.create) {
    const body = assignmentObject(a, nodeName);
    try {
      await custom.createNamespacedCustomObject({ ...base, namespace: a.namespace, body });
      await custom.patchNamespacedCustomObjectStatus({
        ...base,
        namespace: a.namespace,
        name: a.name,
        body: [{ op: 'add', path: '/status', value: body.status }],
      });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409))
        log.warn({ assignment: `${a.namespace}/${a.name}`, code: (err as ApiException<unknown>).code }, 'cannot create AzureAssignedIdentity');
    }
  }
  for (const e of plan.remove) {
    try {
      await custom.deleteNamespacedCustomObject({ ...base, namespace: e.namespace, name: e.name });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404))
        log.warn({ assignment: `${e.namespace}/${e.name}`, code: (err as ApiException<unknown>).code }, 'cannot delete AzureAssignedIdentity');
    }
  }
  return { created: plan.create.length, removed: plan.remove.length };
}

/** On start: adopt or delete MIC's AzureAssignedIdentity objects on this node (planTakeover); finalizers cleared first. */
export async function takeOverLeftovers(kc: KubeConfig, nodeName: string, desired: Assignment[], log: Logger): Promise<{ adopted: number; removed: number }> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const base = { group: API_GROUP, version: API_VERSION, plural: 'azureassignedidentities' };
  type Raw = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; finalizers?: string[] }; spec?: Record<string, unknown> };
  const list = (await withRetry(() => custom.listClusterCustomObject(base))) as { items: Raw[] };
  const foreign: ForeignAssignment[] = list.items.map((o) => {
    const node = o.spec?.nodename ?? o.spec?.nodeName ?? o.spec?.NodeName;
    return {
      ...nameOf(o),
      nodeName: typeof node === 'string' ? node : undefined,
      labels: o.metadata?.labels ?? {},
      finalizers: o.metadata?.finalizers ?? [],
    };
  });
  const plan = planTakeover(foreign, desired, nodeName);
  const patch = (f: ForeignAssignment, body: object[]) => custom.patchNamespacedCustomObject({ ...base, namespace: f.namespace, name: f.name, body });
  for (const f of plan.adopt) await patch(f, adoptionPatch(f, nodeName));
  for (const f of plan.remove) {
    if (f.finalizers.length) await patch(f, [{ op: 'add', path: '/metadata/finalizers', value: [] }]);
    await custom.deleteNamespacedCustomObject({ ...base, namespace: f.namespace, name: f.name }).catch((err: unknown) => {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    });
  }
  if (plan.adopt.length || plan.remove.length)
    log.info({ adopted: plan.adopt.length, removed: plan.remove.length }, "took over MIC's AzureAssignedIdentity objects");
  return { adopted: plan.adopt.length, removed: plan.remove.length };
}

/** Warning Events on pods (`kubectl describe pod`), as `component` (podid-nmi on its node, podid-controller); failures are logged, never thrown. */
export function kubeEvents(kc: KubeConfig, host: string, log: Logger, component = 'podid-nmi'): PodEvents {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    warn(pod, reason, message) {
      const now = new Date();
      const body = {
        metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
        involvedObject: { apiVersion: pod.apiVersion ?? 'v1', kind: pod.kind ?? 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid || undefined },
        type: 'Warning',
        reason,
        message,
        source: { component, host },
        reportingComponent: component,
        reportingInstance: host,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      core.createNamespacedEvent({ namespace: pod.namespace, body }).catch((err: unknown) => {
        log.warn({ reason, pod: `${pod.namespace}/${pod.name}`, code: err instanceof ApiException ? err.code : undefined }, 'cannot write an Event');
      });
    },
  };
}
