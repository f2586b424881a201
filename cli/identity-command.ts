// `podid identity create|list|delete` and `podid exception add|list|delete`: what `az aks pod-identity` offered,
// for any cluster. Objects come from identity/manifests.ts; `--dry-run` prints them instead of writing.

import { ApiException, CoreV1Api, CustomObjectsApi, dumpYaml, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, BINDING_LABEL, IdentityType } from '../identity/crds.ts';
import { exceptionManifest, identityManifests, identityRows, identitySpecProblem, identityTable } from '../identity/manifests.ts';
import { parseAzureIdentity, parseAzureIdentityBinding, parseAzurePodIdentityException } from '../identity/parse.ts';
import { withRetry } from '../common/kube-retry.ts';
import { clientNodeFailure, kubeConfig } from '../common/kube-config.ts';
import { listParsed } from '../identity/list-parsed.ts';
import { kubeconfigFlag } from './common-flags.ts';
import { UsageError, defineCommand, flag, switchFlag, types } from './flags.ts';

const PLURAL: Record<string, string> = {
  AzureIdentity: 'azureidentities',
  AzureIdentityBinding: 'azureidentitybindings',
  AzurePodIdentityException: 'azurepodidentityexceptions',
};
const group = { group: API_GROUP, version: API_VERSION };

const common = {
  namespace: flag(types.string, { env: 'PODID_NAMESPACE', default: 'default', short: 'n', help: 'namespace of the objects' }),
  kubeconfig: kubeconfigFlag('kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'),
};
const output = flag(types.oneOf(['text', 'yaml', 'json'] as const), {
  env: 'PODID_OUTPUT',
  default: 'text',
  short: 'o',
  help: 'with --dry-run or list: yaml or json prints the objects',
});

function print(objects: Record<string, unknown>[], format: 'text' | 'yaml' | 'json'): void {
  if (format === 'json')
    process.stdout.write(`${JSON.stringify(objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`);
  else process.stdout.write(objects.map((o) => dumpYaml(o)).join('---\n'));
}

/** Creates each object; an existing one is an error naming it (nothing is overwritten). */
async function createAll(kc: KubeConfig, objects: Record<string, unknown>[]): Promise<number> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const o of objects) {
    const meta = o.metadata as { name: string; namespace: string };
    try {
      await withRetry(() => custom.createNamespacedCustomObject({ ...group, plural: PLURAL[o.kind as string]!, namespace: meta.namespace, body: o }), {
        failure: clientNodeFailure,
      });
      process.stdout.write(`${String(o.kind).toLowerCase()}.${API_GROUP}/${meta.name} created\n`);
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) {
        process.stderr.write(`podid: ${String(o.kind)} ${meta.namespace}/${meta.name} already exists; delete it first or pick another name\n`);
        return 1;
      }
      if (err instanceof ApiException && err.code === 404) {
        process.stderr.write(`podid: the cluster does not serve ${String(o.kind)}: install podid's CRDs first (kubectl apply -k deploy/, or helm install)\n`);
        return 1;
      }
      throw err;
    }
  }
  return 0;
}

/** Deletes one podid object, as kubectl reports it; exit 1 naming it when it does not exist. */
async function deleteOne(kc: KubeConfig, kind: string, namespace: string, name: string): Promise<number> {
  try {
    await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...group, plural: PLURAL[kind]!, namespace, name });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) {
      process.stderr.write(`podid: ${kind} ${namespace}/${name} not found\n`);
      return 1;
    }
    throw err;
  }
  process.stdout.write(`${kind.toLowerCase()}.${API_GROUP}/${name} deleted\n`);
  return 0;
}

/** The identity types podid knows (identity/crds.ts), as flag values. */
const identityType = types.oneOf(Object.values(IdentityType).map(String));

// prettier-ignore
export const identityCreateCommand = defineCommand({
  name: 'identity create',
  summary: 'create an AzureIdentity and its AzureIdentityBinding (or print them with --dry-run)',
  positional: 'name',
  flags: {
    name: flag(types.string, { env: 'PODID_IDENTITY_NAME', required: true, help: 'the AzureIdentity (also the first argument)' }),
    type: flag(identityType, { env: 'PODID_IDENTITY_TYPE', default: '0', help: '0 user-assigned managed identity, 1 service principal (secret), 2 (certificate), 3 (federated)' }),
    'client-id': flag(types.optionalString, { env: 'PODID_CLIENT_ID', help: "the identity's client (application) ID" }),
    'resource-id': flag(types.optionalString, { env: 'PODID_RESOURCE_ID', help: "type 0: the identity's ARM resource ID (standard mode needs it)" }),
    'tenant-id': flag(types.optionalString, { env: 'PODID_TENANT_ID', help: 'types 1–3: the tenant' }),
    secret: flag(types.optionalString, { env: 'PODID_IDENTITY_SECRET', help: 'types 1 and 2: the Secret (same namespace) holding the client secret or certificate' }),
    selector: flag(types.string, { env: 'PODID_SELECTOR', required: true, help: 'pods labeled aadpodidbinding=<selector> get the identity' }),
    'binding-name': flag(types.optionalString, { env: 'PODID_BINDING_NAME', help: 'the AzureIdentityBinding (default <name>-binding)' }),
    'dry-run': switchFlag({ env: 'PODID_DRY_RUN', help: 'print the objects instead of creating them' }),
    output,
    ...common,
  },
  async run(v) {
    const spec = { name: v.name, namespace: v.namespace, type: Number(v.type) as IdentityType, clientID: v['client-id'], resourceID: v['resource-id'], tenantID: v['tenant-id'], secret: v.secret, selector: v.selector, bindingName: v['binding-name'] };
    const problem = identitySpecProblem(spec);
    if (problem) throw new UsageError(problem);
    const objects = identityManifests(spec);
    if (v['dry-run']) {
      print(objects, v.output === 'json' ? 'json' : 'yaml');
      return 0;
    }
    return createAll(kubeConfig(v.kubeconfig), objects);
  },
});

export const identityListCommand = defineCommand({
  name: 'identity list',
  summary: 'list AzureIdentities with their binding selectors and the pods each serves',
  flags: { 'all-namespaces': switchFlag({ env: 'PODID_ALL_NAMESPACES', help: 'every namespace' }), output, ...common },
  async run(v) {
    const kc = kubeConfig(v.kubeconfig);
    const ns = v['all-namespaces'] ? undefined : v.namespace;
    const [identities, bindings, exceptions] = await Promise.all([
      listParsed(kc, 'azureidentities', parseAzureIdentity, ns),
      listParsed(kc, 'azureidentitybindings', parseAzureIdentityBinding),
      listParsed(kc, 'azurepodidentityexceptions', parseAzurePodIdentityException),
    ]);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = (await withRetry(() => core.listPodForAllNamespaces({ labelSelector: BINDING_LABEL }), { failure: clientNodeFailure })).items.map((p) => ({
      name: p.metadata?.name ?? '',
      namespace: p.metadata?.namespace ?? 'default',
      labels: p.metadata?.labels ?? {},
    }));
    const rows = identityRows({ identities, bindings, exceptions }, pods, { forceNamespaced: false });
    process.stdout.write(v.output === 'text' ? identityTable(rows) : v.output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : dumpYaml(rows));
    return 0;
  },
});

export const identityDeleteCommand = defineCommand({
  name: 'identity delete',
  summary: 'delete an AzureIdentity and the AzureIdentityBindings that name it',
  positional: 'name',
  flags: { name: flag(types.string, { env: 'PODID_IDENTITY_NAME', required: true, help: 'the AzureIdentity (also the first argument)' }), ...common },
  async run(v) {
    const kc = kubeConfig(v.kubeconfig);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const bindings = (await listParsed(kc, 'azureidentitybindings', parseAzureIdentityBinding, v.namespace)).filter((b) => b.azureIdentity === v.name);
    for (const b of bindings) {
      await custom.deleteNamespacedCustomObject({ ...group, plural: 'azureidentitybindings', namespace: v.namespace, name: b.name });
      process.stdout.write(`azureidentitybinding.${API_GROUP}/${b.name} deleted\n`);
    }
    return deleteOne(kc, 'AzureIdentity', v.namespace, v.name);
  },
});

/** `app=csi,component=proxy` → labels. */
function podLabels(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=([^=\s]*)$/.exec(item);
    if (!m) throw new UsageError(`--pod-labels: ${JSON.stringify(item)} is not key=value`);
    out[m[1]!] = m[2]!;
  }
  if (!Object.keys(out).length) throw new UsageError('--pod-labels needs at least one key=value (an empty exception would match no pod)');
  return out;
}

export const exceptionAddCommand = defineCommand({
  name: 'exception add',
  summary: 'create an AzurePodIdentityException: pods with these labels reach the real IMDS (or print it with --dry-run)',
  positional: 'name',
  flags: {
    name: flag(types.string, { env: 'PODID_EXCEPTION_NAME', required: true, help: 'the AzurePodIdentityException (also the first argument)' }),
    'pod-labels': flag(types.list, { env: 'PODID_POD_LABELS', required: true, help: 'key=value labels the pods carry, comma-separated' }),
    'dry-run': switchFlag({ env: 'PODID_DRY_RUN', help: 'print the object instead of creating it' }),
    output,
    ...common,
  },
  async run(v) {
    const o = exceptionManifest(v.name, v.namespace, podLabels(v['pod-labels']));
    if (v['dry-run']) {
      print([o], v.output === 'json' ? 'json' : 'yaml');
      return 0;
    }
    return createAll(kubeConfig(v.kubeconfig), [o]);
  },
});

export const exceptionListCommand = defineCommand({
  name: 'exception list',
  summary: 'list AzurePodIdentityExceptions and the labels they match',
  flags: { 'all-namespaces': switchFlag({ env: 'PODID_ALL_NAMESPACES', help: 'every namespace' }), ...common },
  async run(v) {
    const items = await listParsed(
      kubeConfig(v.kubeconfig),
      'azurepodidentityexceptions',
      parseAzurePodIdentityException,
      v['all-namespaces'] ? undefined : v.namespace,
    );
    const rows = [
      ['EXCEPTION', 'POD LABELS'],
      ...items.map((e) => [
        `${e.namespace}/${e.name}`,
        Object.entries(e.podLabels)
          .map(([k, x]) => `${k}=${x}`)
          .join(','),
      ]),
    ];
    const w = Math.max(...rows.map((r) => r[0]!.length));
    process.stdout.write(rows.map((r) => `${r[0]!.padEnd(w)}  ${r[1]}`).join('\n') + '\n');
    return 0;
  },
});

export const exceptionDeleteCommand = defineCommand({
  name: 'exception delete',
  summary: 'delete an AzurePodIdentityException',
  positional: 'name',
  flags: {
    name: flag(types.string, { env: 'PODID_EXCEPTION_NAME', required: true, help: 'the AzurePodIdentityException (also the first argument)' }),
    ...common,
  },
  async run(v) {
    return deleteOne(kubeConfig(v.kubeconfig), 'AzurePodIdentityException', v.namespace, v.name);
  },
});
