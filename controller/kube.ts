// The controller's Kubernetes side (podid's client, common/kube-client.ts): informers for labeled pods, nodes and
// AzureAssignedIdentity objects; ownership records (one ConfigMap per scale set or VM podid added identities to);
// its records through the one AzureAssignedIdentity writer (identity/assigned-writer.ts); the status mirror behind
// the printer columns. Decisions come from the pure modules beside it.

import { createHash } from 'node:crypto';
import { eachLimited } from '../common/each-limited.ts';
import { statusOf, type KubeClient } from '../common/kube-client.ts';
import { ASSIGNED_PATH, AssignedWriter } from '../identity/assigned-writer.ts';
import { nameOf, type Meta, type Watch } from '../common/kube-watch.ts';
import type { Logger } from '../common/log.ts';
import { adoptionPatch, assignmentObject, MANAGED_BY_LABEL, NODE_LABEL } from '../identity/assigned.ts';
import { API_GROUP, API_VERSION, BINDING_LABEL } from '../identity/crds.ts';
import { parseAzureIdentity, parseAzureIdentityBinding } from '../identity/parse.ts';
import { armTargetOf, type ArmTarget } from './arm-target.ts';
import { bindingColumns, columnsPatch, identityColumns, type ColumnStatus } from './columns.ts';
import type { ExistingRecord, RecordPlan, ScheduledPod } from './desired.ts';
import type { OwnershipStore, RecordStore } from './reconciler.ts';

export const MANAGER = 'podid-controller';
const OWNERSHIP_LABEL = 'podid.io/arm-ownership';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const key = (namespace: string, name: string) => `${namespace}/${name}`;
const ourLabels = (nodeName: string) => ({ [NODE_LABEL]: nodeName, [MANAGED_BY_LABEL]: MANAGER });

/** Labeled pods (`aadpodidbinding` exists) once scheduled; everything else about them is left out. */
export function labeledPodWatch(pods: Map<string, ScheduledPod>): Watch<unknown> {
  return {
    path: '/api/v1/pods',
    labelSelector: BINDING_LABEL,
    upsert: (o) => {
      const meta = rec(rec(o).metadata);
      const nodeName = str(rec(rec(o).spec).nodeName);
      const k = key(str(meta.namespace), str(meta.name));
      const phase = str(rec(rec(o).status).phase);
      if (!nodeName || phase === 'Succeeded' || phase === 'Failed') return void pods.delete(k);
      const labels: Record<string, string> = {};
      for (const [lk, lv] of Object.entries(rec(meta.labels))) if (typeof lv === 'string') labels[lk] = lv;
      pods.set(k, { name: str(meta.name), namespace: str(meta.namespace) || 'default', uid: str(meta.uid), labels, nodeName });
    },
    remove: (o) => void pods.delete(key(nameOf(o as Meta).namespace, nameOf(o as Meta).name)),
  };
}

/** Nodes → the scale set or VM each is (spec.providerID). */
export function nodeWatch(nodes: Map<string, ArmTarget | { error: string }>): Watch<unknown> {
  return {
    path: '/api/v1/nodes',
    upsert: (o) => void nodes.set(str(rec(rec(o).metadata).name), armTargetOf(str(rec(rec(o).spec).providerID) || undefined)),
    remove: (o) => void nodes.delete(str(rec(rec(o).metadata).name)),
  };
}

/** Every AzureAssignedIdentity: podid's (its labels) and MIC's leftovers alike. */
export function recordWatch(records: Map<string, ExistingRecord>): Watch<unknown> {
  return {
    path: ASSIGNED_PATH,
    upsert: (o) => {
      const meta = rec(rec(o).metadata);
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(rec(meta.labels))) if (typeof v === 'string') labels[k] = v;
      const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers.length : 0;
      const { namespace, name } = nameOf(o as Meta);
      records.set(key(namespace, name), {
        name,
        namespace,
        status: str(rec(rec(o).status).status) || undefined,
        ours: labels[MANAGED_BY_LABEL] === MANAGER && typeof labels[NODE_LABEL] === 'string' && finalizers === 0,
        labels,
        finalizers,
      });
    },
    remove: (o) => void records.delete(key(nameOf(o as Meta).namespace, nameOf(o as Meta).name)),
  };
}

/** AzureAssignedIdentity objects written as the controller's record; the local map is updated on success. */
export function kubeRecords(client: KubeClient, records: Map<string, ExistingRecord>, log: Logger, concurrency = 16): RecordStore {
  const writer = new AssignedWriter(client);
  return {
    existing: () => [...records.values()],
    async apply(plan: RecordPlan) {
      let failed = 0;
      const guard = async (what: string, fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (err) {
          failed++;
          log.warn({ assignment: what, code: statusOf(err), err: (err as Error).message }, 'cannot write AzureAssignedIdentity');
        }
      };
      await eachLimited(plan.create, concurrency, ({ assignment: a, status }) =>
        guard(`${a.namespace}/${a.name}`, async () => {
          await writer.create(a.namespace, a.name, assignmentObject(a, a.pod.nodeName, status, MANAGER), status);
          records.set(key(a.namespace, a.name), { name: a.name, namespace: a.namespace, status, ours: true, labels: ourLabels(a.pod.nodeName), finalizers: 0 });
        }),
      );
      await eachLimited(plan.update, concurrency, ({ assignment: a, status, adopt }) =>
        guard(`${a.namespace}/${a.name}`, async () => {
          // MIC's object: podid's labels, and no finalizers (no MIC is left to honour them).
          if (adopt) {
            const existing = records.get(key(a.namespace, a.name));
            await writer.patch(a.namespace, a.name, adoptionPatch({ labels: existing?.labels ?? {} }, a.pod.nodeName, MANAGER));
          }
          await writer.setStatus(a.namespace, a.name, status);
          records.set(key(a.namespace, a.name), { name: a.name, namespace: a.namespace, status, ours: true, labels: ourLabels(a.pod.nodeName), finalizers: 0 });
        }),
      );
      await eachLimited(plan.remove, concurrency, (r) =>
        guard(`${r.namespace}/${r.name}`, async () => {
          await writer.remove(r.namespace, r.name, r.finalizers > 0);
          records.delete(key(r.namespace, r.name));
        }),
      );
      if (failed) throw new Error(`${failed} AzureAssignedIdentity writes failed`);
    },
  };
}

/** One ConfigMap per scale set or VM podid added identities to: the ids it added, so a new leader knows them. */
export function kubeOwnership(client: KubeClient, namespace: string): OwnershipStore {
  const nameFor = (t: ArmTarget) => `podid-arm-${createHash('sha256').update(t.key).digest('hex').slice(0, 20)}`;
  const configMaps = `/api/v1/namespaces/${namespace}/configmaps`;
  return {
    async load() {
      const list = await client.list<{ data?: Record<string, string> }>(configMaps, { labelSelector: OWNERSHIP_LABEL });
      const out = new Map<string, { target: ArmTarget; owned: Set<string> }>();
      for (const cm of list.items) {
        const id = cm.data?.target ?? '';
        const kind = cm.data?.kind;
        if (!id || (kind !== 'vmss' && kind !== 'vm')) continue;
        const target: ArmTarget = { kind, id, key: id.toLowerCase() };
        let owned: unknown;
        try {
          owned = JSON.parse(cm.data?.owned ?? '[]');
        } catch {
          owned = [];
        }
        out.set(target.key, { target, owned: new Set(Array.isArray(owned) ? owned.filter((x): x is string => typeof x === 'string') : []) });
      }
      return out;
    },
    async save(target, owned) {
      const name = nameFor(target);
      const body = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace, labels: { [OWNERSHIP_LABEL]: 'true', [MANAGED_BY_LABEL]: MANAGER } },
        data: { target: target.id, kind: target.kind, owned: JSON.stringify([...owned].sort()) },
      };
      try {
        await client.request('PUT', `${configMaps}/${name}`, { body });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        await client.request('POST', configMaps, { body });
      }
    },
  };
}

/** The status mirror behind the printer columns: watches of AzureIdentity and AzureIdentityBinding that patch `.status`. */
export function columnWatches(client: KubeClient, log: Logger): Watch<unknown>[] {
  const mirror = (plural: string, columns: (o: unknown) => ColumnStatus | undefined): Watch<unknown> => ({
    path: `/apis/${API_GROUP}/${API_VERSION}/${plural}`,
    upsert: (o) => {
      const want = columns(o);
      const body = want && columnsPatch(rec(o).status, want);
      if (!body) return;
      const { namespace, name } = nameOf(o as Meta);
      const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${plural}/${name}/status`;
      client.request('PATCH', path, { body, contentType: 'application/json-patch+json' }).catch((err: unknown) => {
        if (statusOf(err) !== 404) log.warn({ object: `${plural}/${namespace}/${name}`, err: (err as Error).message }, 'cannot update the status columns');
      });
    },
    remove: () => {},
  });
  return [
    mirror('azureidentities', (o) => {
      const r = parseAzureIdentity(o);
      return r.ok ? identityColumns(r.value) : undefined;
    }),
    mirror('azureidentitybindings', (o) => {
      const r = parseAzureIdentityBinding(o);
      return r.ok ? bindingColumns(r.value) : undefined;
    }),
  ];
}
