// NMI's Kubernetes side (podid's KubeClient, common/kube-client.ts): informers that fill the pod index and the
// identity store, TokenReview for sidecar callers, Secrets for service principals, Events, and the
// AzureAssignedIdentity writer. Everything decided here comes from the pure modules beside it.

import { eachLimited } from '../common/each-limited.ts';
import { statusOf, type KubeClient } from '../common/kube-client.ts';
import { withRetry } from '../common/kube-retry.ts';
import { nameOf, runWatches, type Meta, type Watch } from '../common/kube-watch.ts';
import { errnoSuffix, unavailable } from '../common/http-error.ts';
import type { Logger } from '../common/log.ts';
import { adoptionPatch, assignmentObject, NODE_LABEL } from '../identity/assigned.ts';
import { ASSIGNED_PATH, AssignedWriter } from '../identity/assigned-writer.ts';
import type { AssignmentStates } from './assignment-gate.ts';
import { planAssignments, planTakeover, type Assignment, type ForeignAssignment } from './assignments.ts';
import { callerFromReview, type Reviewer } from './caller.ts';
import type { IdentityStore } from '../identity/store.ts';
import { identityWatches } from '../identity/watches.ts';
import { toNodePod, type PodIndex } from './pod-index.ts';
import { CredentialError, type SecretData } from '../aad/sp-credentials.ts';

/** One node's pods into its PodIndex. */
export function nodePodWatch(n: { name: string; pods: PodIndex }): Watch<unknown> {
  return {
    path: '/api/v1/pods',
    fieldSelector: `spec.nodeName=${n.name}`,
    upsert: (o) => {
      const p = toNodePod(o);
      if (p) n.pods.upsert(p);
    },
    remove: (o) => n.pods.deleted(nameOf(o as Meta).namespace, nameOf(o as Meta).name),
  };
}

/**
 * Starts the informers of the three podid CRDs (into `store`) and, with `node`, of that node's pods; resolves once
 * every initial list is in. `onChange` fires after any event.
 */
export function startInformers(
  client: KubeClient,
  store: IdentityStore,
  log: Logger,
  onChange: () => void,
  node?: { name: string; pods: PodIndex },
  extra: readonly Watch<any>[] = [],
): Promise<() => void> {
  return runWatches(client, [...(node ? [nodePodWatch(node)] : []), ...identityWatches(store, log), ...extra], log, onChange);
}

/** Standard mode: this node's AzureAssignedIdentity statuses (written by podid-controller). */
export function nodeAssignmentWatch(nodeName: string, states: AssignmentStates): Watch<unknown> {
  const labelSelector = `${NODE_LABEL}=${nodeName}`;
  const status = (o: unknown) => {
    const st = (o as { status?: { status?: unknown } }).status?.status;
    return typeof st === 'string' ? st : undefined;
  };
  return {
    path: ASSIGNED_PATH,
    labelSelector,
    upsert: (o) => states.set(nameOf(o as Meta).namespace, nameOf(o as Meta).name, status(o)),
    remove: (o) => states.remove(nameOf(o as Meta).namespace, nameOf(o as Meta).name),
  };
}

/** TokenReview with the audience podid's sidecars present. */
export function kubeReviewer(client: KubeClient, audience: string, count?: (result: 'authenticated' | 'rejected' | 'error') => void): Reviewer {
  return {
    async review(token) {
      let review;
      try {
        review = await client.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } },
        });
      } catch (err) {
        count?.('error');
        const status = statusOf(err);
        throw unavailable(503, `TokenReview failed${status ? ` (HTTP ${status})` : errnoSuffix(err)}; cannot authenticate the caller`, {
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

export function kubeSecrets(client: KubeClient): (ref: { name: string; namespace: string }) => Promise<SecretData> {
  return async (ref) => {
    let secret: { data?: Record<string, string> };
    try {
      secret = await client.request('GET', `/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`);
    } catch (err) {
      const status = statusOf(err);
      throw new CredentialError(status === 404 ? 'not found' : `cannot be read (${status ?? 'error'})`, { cause: err });
    }
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  };
}

const WRITES_IN_FLIGHT = 8;

/**
 * Managed mode: the names of this node's AzureAssignedIdentity objects, kept by a watch so that a sync plans against
 * them without listing every object again (10k pods: 10k objects a second during a churn).
 */
export function nodeAssignmentNames(nodeName: string, names: Map<string, { namespace: string; name: string }>): Watch<Meta> {
  return {
    path: ASSIGNED_PATH,
    labelSelector: `${NODE_LABEL}=${nodeName}`,
    upsert: (o) => void names.set(`${nameOf(o).namespace}/${nameOf(o).name}`, nameOf(o)),
    remove: (o) => void names.delete(`${nameOf(o).namespace}/${nameOf(o).name}`),
  };
}

/**
 * Brings this node's AzureAssignedIdentity objects (`existing`, kept by nodeAssignmentNames) in line with `desired`,
 * noting what it did in `existing` before the watch does. A stale `existing` costs a 409 on create or a 404 on
 * delete, both taken as done.
 */
export async function syncAssignments(
  client: KubeClient,
  nodeName: string,
  desired: Assignment[],
  existing: Map<string, { namespace: string; name: string }>,
  log: Logger,
): Promise<{ created: number; removed: number }> {
  const plan = planAssignments(desired, [...existing.values()]);
  const writer = new AssignedWriter(client);
  // A few at a time: a node's 10k pods were ~100 s of sequential creates against a local apiserver.
  await eachLimited(plan.create, WRITES_IN_FLIGHT, async (a) => {
    const body = assignmentObject(a, nodeName);
    try {
      await writer.create(a.namespace, a.name, body, (body.status as { status: string }).status);
      existing.set(`${a.namespace}/${a.name}`, { namespace: a.namespace, name: a.name });
    } catch (err) {
      log.warn({ assignment: `${a.namespace}/${a.name}`, code: statusOf(err) }, 'cannot create AzureAssignedIdentity');
    }
  });
  await eachLimited(plan.remove, WRITES_IN_FLIGHT, async (e) => {
    try {
      await writer.remove(e.namespace, e.name);
      existing.delete(`${e.namespace}/${e.name}`);
    } catch (err) {
      log.warn({ assignment: `${e.namespace}/${e.name}`, code: statusOf(err) }, 'cannot delete AzureAssignedIdentity');
    }
  });
  return { created: plan.create.length, removed: plan.remove.length };
}

/** On start: adopt or delete MIC's AzureAssignedIdentity objects on this node (planTakeover); finalizers cleared first. */
export async function takeOverLeftovers(
  client: KubeClient,
  nodeName: string,
  desired: Assignment[],
  log: Logger,
): Promise<{ adopted: number; removed: number }> {
  type Raw = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; finalizers?: string[] }; spec?: Record<string, unknown> };
  const list = await withRetry(() => client.list<Raw>(ASSIGNED_PATH));
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
  const writer = new AssignedWriter(client);
  for (const f of plan.adopt) await writer.patch(f.namespace, f.name, adoptionPatch(f, nodeName));
  for (const f of plan.remove) await writer.remove(f.namespace, f.name, f.finalizers.length > 0);
  if (plan.adopt.length || plan.remove.length)
    log.info({ adopted: plan.adopt.length, removed: plan.remove.length }, "took over MIC's AzureAssignedIdentity objects");
  return { adopted: plan.adopt.length, removed: plan.remove.length };
}
