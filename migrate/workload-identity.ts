// `podid migrate workload-identity`, pure: for each AzureIdentityBinding, the workloads it serves and their
// ServiceAccounts, and what moving them to azure-workload-identity takes: a federated identity credential per
// (identity, ServiceAccount) on the identity, the client-id annotation on each ServiceAccount, and the use label in
// each pod template in place of aadpodidbinding. It warns where the move cannot be written as is. Nothing here
// reads or writes a cluster, or Azure (wi-cluster.ts reads, wi-apply.ts applies only when asked).

import { IdentityType, identityTypeName, type AzureIdentity, type AzureIdentityBinding } from '../identity/crds.ts';
import { parseAzureIdentity, parseAzureIdentityBinding } from '../identity/parse.ts';
import { resolvePod } from '../identity/match.ts';
import { BINDING_LABEL } from '../identity/crds.ts';
import { at, templateLocation } from '../podspec/workloads.ts';
import { serviceAccountSubject, WI_ANNOTATIONS, WI_TOKEN, WI_USE_LABEL } from '../tokens/workload-identity-contract.ts';

/** Azure's limit on federated identity credentials per identity (user-assigned identity or app registration). */
export const MAX_FEDERATED_CREDENTIALS = 20;

export interface WiSnapshot {
  /** Workloads and pods as the API returns them (apiVersion/kind/metadata/spec). */
  workloads: unknown[];
  identities: unknown[];
  bindings: unknown[];
  /** "namespace/name" → annotations. */
  serviceAccounts: Map<string, Record<string, string>>;
  /** The cluster's service-account issuer (the federated credentials' issuer). */
  issuer: string;
}

export interface WiOptions {
  forceNamespaced: boolean;
  /** Only this binding ("namespace/name"); all when undefined. */
  binding?: string;
  /** Add azwi's proxy annotation: to every moved template, or only where an IMDS-only client is recognised. */
  proxy: 'auto' | 'always' | 'never';
}

export interface FederatedCredential {
  /** Unique per identity: 3-120 characters of [A-Za-z0-9_-], starting with a letter or digit (Azure's rule). */
  name: string;
  issuer: string;
  subject: string;
  audience: string;
}

export interface Workload {
  kind: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  /** Where the pod template's labels are (the Pod's own for a bare pod). */
  templatePath: string[];
  proxy: boolean;
}

export interface Patch {
  /** `kind namespace/name` for people; apiVersion, kind and plural for the apply. */
  target: { apiVersion: string; kind: string; resource: string; namespace: string; name: string };
  /** A JSON merge patch (RFC 7386). */
  mergePatch: Record<string, unknown>;
  /** The ServiceAccount ("namespace/name") the patch is for, or whose pods the template makes. */
  serviceAccount: string;
  /** Set when --apply leaves it to the operator (a bare pod must be recreated from its manifest). */
  manual?: string;
}

export interface BindingMove {
  binding: string;
  identity?: { name: string; type: number; clientID?: string; resourceID?: string; tenantID?: string };
  workloads: Workload[];
  credentials: FederatedCredential[];
  /** `az` commands that create the credentials (none when the identity cannot federate as is). */
  azCommands: string[];
  /** The credentials as ARM resources (a template's `resources`). */
  arm: Record<string, unknown>[];
  patches: Patch[];
  warnings: string[];
}

export interface WiPlan {
  issuer: string;
  moves: BindingMove[];
  /** Cluster-wide: a ServiceAccount several identities would need. */
  warnings: string[];
}

/** Client images that speak only managed identity (IMDS), not workload identity: they need the proxy. */
const IMDS_ONLY_CLIENTS: { pattern: RegExp; why: string }[] = [
  { pattern: /(^|\/)azure-cli(:|@|$)/, why: 'Azure CLI logs in with --identity (IMDS); with workload identity it needs az login --federated-token' },
  { pattern: /(^|\/)external-dns(:|@|$)/, why: "external-dns's Azure provider (go-autorest adal) before v0.13.5 speaks only IMDS" },
  { pattern: /(^|\/)aad-pod-identity\//, why: 'an aad-pod-identity image' },
];
/** Variables an app sets itself that point an SDK at a managed-identity endpoint. */
const IMDS_ONLY_ENV = ['MSI_ENDPOINT', 'AZURE_POD_IDENTITY_AUTHORITY_HOST', 'IDENTITY_ENDPOINT'];

type Obj = Record<string, any>;

/** Whether a template's containers look IMDS-only, and why. */
function imdsOnlyReason(spec: Obj | undefined): string | undefined {
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])] as Obj[]) {
    const image = String(c.image ?? '');
    const hit = IMDS_ONLY_CLIENTS.find((x) => x.pattern.test(image));
    if (hit) return `${c.name} (${image}): ${hit.why}`;
    const env = (c.env ?? []).map((e: Obj) => e.name).find((n: string) => IMDS_ONLY_ENV.includes(n));
    if (env) return `${c.name} sets ${env} itself, so it asks a managed-identity endpoint`;
  }
  return undefined;
}

/** A workload someone wrote: not one a controller made (a Deployment's ReplicaSets, their pods, a CronJob's Jobs). */
const ownedByController = (o: Obj) => (o.metadata?.ownerReferences ?? []).some((r: Obj) => r.controller === true);

/** Azure's federated credential name: [A-Za-z0-9][A-Za-z0-9_-]{2,119}. */
export function credentialName(namespace: string, serviceAccount: string): string {
  const name = `kubernetes-${namespace}-${serviceAccount}`.replace(/[^A-Za-z0-9_-]/g, '-');
  return name.length <= 120 ? name : name.slice(0, 120);
}

/** A user-assigned identity's resource group and name from its resource ID. */
function msiParts(resourceID: string | undefined): { group: string; name: string } | undefined {
  const m = /\/resourcegroups\/([^/]+)\/providers\/microsoft\.managedidentity\/userassignedidentities\/([^/]+)$/i.exec(resourceID ?? '');
  return m ? { group: m[1]!, name: m[2]! } : undefined;
}

function azCommand(identity: AzureIdentity, c: FederatedCredential): string | undefined {
  const common = `--issuer "${c.issuer}" --subject "${c.subject}" --audience "${c.audience}"`;
  if (identity.type === IdentityType.UserAssignedMSI) {
    const msi = msiParts(identity.resourceID);
    return msi && `az identity federated-credential create --name ${c.name} --identity-name ${msi.name} --resource-group ${msi.group} ${common}`;
  }
  if (!identity.clientID) return undefined;
  const parameters = JSON.stringify({ name: c.name, issuer: c.issuer, subject: c.subject, audiences: [c.audience] });
  return `az ad app federated-credential create --id ${identity.clientID} --parameters '${parameters}'`;
}

function armResource(identity: AzureIdentity, c: FederatedCredential): Record<string, unknown> | undefined {
  const properties = { issuer: c.issuer, subject: c.subject, audiences: [c.audience] };
  if (identity.type === IdentityType.UserAssignedMSI) {
    const msi = msiParts(identity.resourceID);
    return (
      msi && {
        type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
        apiVersion: '2023-01-31',
        name: `${msi.name}/${c.name}`,
        properties,
      }
    );
  }
  // An app registration's credential lives in Microsoft Graph (applications/{id}/federatedIdentityCredentials), not ARM.
  return identity.clientID
    ? { graph: `POST /applications(appId='${identity.clientID}')/federatedIdentityCredentials`, body: { name: c.name, ...properties } }
    : undefined;
}

function identityWarnings(identity: AzureIdentity, binding: string): string[] {
  const who = `AzureIdentity ${identity.namespace}/${identity.name} (${identityTypeName[identity.type]})`;
  const w: string[] = [];
  if (identity.type === IdentityType.UserAssignedMSI && !msiParts(identity.resourceID))
    w.push(
      `${who} has no resourceID: the federated credentials cannot be written for it (az identity federated-credential create needs its name and resource group)`,
    );
  if (identity.type === IdentityType.ServicePrincipal || identity.type === IdentityType.ServicePrincipalCertificate)
    w.push(
      `${who} authenticates with a ${identity.type === 1 ? 'secret' : 'certificate'}, which workload identity does not use: the credentials go on its app registration (az ad app federated-credential create, Microsoft Graph permissions), after which the ${identity.type === 1 ? 'secret' : 'certificate'} can be retired`,
    );
  if (!identity.clientID) w.push(`${who} names no clientID: the ServiceAccounts of binding ${binding} cannot be annotated`);
  return w;
}

function readWorkloads(raw: unknown[]): { obj: Obj; kind: string; labels: Record<string, string>; spec: Obj | undefined; path: string[]; resource: string }[] {
  const out = [];
  for (const o of raw as Obj[]) {
    if (!o?.metadata || ownedByController(o)) continue;
    const group = String(o.apiVersion ?? '').includes('/') ? String(o.apiVersion).split('/')[0]! : '';
    const loc = templateLocation({ group, version: 'v1', kind: String(o.kind) });
    if (!loc) continue;
    const template = at(o, loc.path) as Obj | undefined;
    out.push({
      obj: o,
      kind: String(o.kind),
      labels: (template?.metadata?.labels ?? {}) as Record<string, string>,
      spec: template?.spec as Obj | undefined,
      path: loc.path,
      resource: loc.resource,
    });
  }
  return out;
}

export function planWorkloadIdentityMove(snap: WiSnapshot, opts: WiOptions): WiPlan {
  const warnings: string[] = [];
  /** The objects podid can read; each one it cannot is named in the warnings (it is not moved). */
  const readable = <T>(
    kind: string,
    raw: unknown[],
    parse: (o: unknown) => { ok: true; value: T } | { ok: false; errors: { field: string; message: string }[] },
  ): T[] =>
    raw.flatMap((o) => {
      const r = parse(o);
      if (r.ok) return [r.value];
      const meta = (o as Obj)?.metadata ?? {};
      warnings.push(`${kind} ${meta.namespace}/${meta.name} is not moved: ${kind}: ${r.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
      return [];
    });
  const identities = readable('AzureIdentity', snap.identities, (o) => parseAzureIdentity(o));
  const bindings = readable('AzureIdentityBinding', snap.bindings, (o) => parseAzureIdentityBinding(o));
  const workloads = readWorkloads(snap.workloads);
  const objects = { identities, bindings, exceptions: [] };
  /** "ns/sa" → the client IDs the move would annotate it with, and who asks. */
  const saClaims = new Map<string, Map<string, string[]>>();
  const moves: BindingMove[] = [];

  for (const binding of bindings.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))) {
    const bindingKey = `${binding.namespace}/${binding.name}`;
    if (opts.binding && opts.binding !== bindingKey) continue;
    const move: BindingMove = { binding: bindingKey, workloads: [], credentials: [], azCommands: [], arm: [], patches: [], warnings: [] };
    moves.push(move);
    const identity = identities.find((i) => i.namespace === binding.namespace && i.name === binding.azureIdentity);
    if (!identity) {
      move.warnings.push(`AzureIdentity ${binding.namespace}/${binding.azureIdentity} does not exist: nothing to move`);
      continue;
    }
    move.identity = {
      name: `${identity.namespace}/${identity.name}`,
      type: identity.type,
      clientID: identity.clientID,
      resourceID: identity.resourceID,
      tenantID: identity.tenantID,
    };
    move.warnings.push(...identityWarnings(identity, bindingKey));

    for (const w of workloads) {
      const namespace = String(w.obj.metadata.namespace ?? '');
      const name = String(w.obj.metadata.name ?? '');
      const r = resolvePod({ name, namespace, labels: w.labels }, objects, { forceNamespaced: opts.forceNamespaced });
      if (r.kind !== 'matched' || !r.identities.some((b) => b.binding === binding)) continue;
      if (r.identities.length > 1)
        move.warnings.push(
          `${w.kind} ${namespace}/${name} may use ${r.identities.length} identities (${r.identities.map((b) => b.identity.name).join(', ')}); workload identity gives a pod one: choose one per ServiceAccount`,
        );
      const serviceAccount = String(w.spec?.serviceAccountName || w.spec?.serviceAccount || 'default');
      const imdsOnly = imdsOnlyReason(w.spec);
      const proxy = opts.proxy === 'always' || (opts.proxy === 'auto' && imdsOnly !== undefined);
      if (imdsOnly)
        move.warnings.push(
          `${w.kind} ${namespace}/${name}: ${imdsOnly}. ${proxy ? `The template gets ${WI_ANNOTATIONS.injectProxySidecar}: podid's sidecar serves it tokens through workload identity` : `Move it with --proxy auto or always, or upgrade its SDK first`}`,
        );
      move.workloads.push({ kind: w.kind, namespace, name, serviceAccount, templatePath: w.path, proxy });
      if (identity.clientID) {
        const claims = saClaims.get(`${namespace}/${serviceAccount}`) ?? new Map<string, string[]>();
        saClaims.set(`${namespace}/${serviceAccount}`, claims);
        claims.set(identity.clientID, [...(claims.get(identity.clientID) ?? []), `${w.kind} ${namespace}/${name} (binding ${bindingKey})`]);
      }
      const [group, version] = String(w.obj.apiVersion).includes('/') ? String(w.obj.apiVersion).split('/') : ['', String(w.obj.apiVersion)];
      const labels = { [WI_USE_LABEL]: 'true', [BINDING_LABEL]: null };
      const annotations = proxy ? { [WI_ANNOTATIONS.injectProxySidecar]: 'true' } : undefined;
      const metadata = { labels, ...(annotations ? { annotations } : {}) };
      const mergePatch = w.path.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), { metadata });
      move.patches.push({
        target: { apiVersion: String(w.obj.apiVersion), kind: w.kind, resource: `${group ? `${group}/` : ''}${version}/${w.resource}`, namespace, name },
        mergePatch: w.path.length ? mergePatch : { metadata },
        serviceAccount: `${namespace}/${serviceAccount}`,
        ...(w.path.length
          ? {}
          : { manual: `a bare Pod is not re-admitted when its labels change: recreate ${namespace}/${name} from its manifest with the label` }),
      });
    }
    if (!move.workloads.length) move.warnings.push(`no workload uses binding ${bindingKey} (selector ${binding.selector})`);

    const subjects = [...new Set(move.workloads.map((w) => `${w.namespace}/${w.serviceAccount}`))].sort();
    for (const key of subjects) {
      const [ns, sa] = key.split('/') as [string, string];
      const c: FederatedCredential = { name: credentialName(ns, sa), issuer: snap.issuer, subject: serviceAccountSubject(ns, sa), audience: WI_TOKEN.audience };
      move.credentials.push(c);
      const cmd = azCommand(identity, c);
      if (cmd) move.azCommands.push(cmd);
      const arm = armResource(identity, c);
      if (arm) move.arm.push(arm);
      if (identity.clientID) {
        const annotations: Record<string, string> = { [WI_ANNOTATIONS.clientId]: identity.clientID };
        if (identity.tenantID) annotations[WI_ANNOTATIONS.tenantId] = identity.tenantID;
        move.patches.unshift({
          target: { apiVersion: 'v1', kind: 'ServiceAccount', resource: 'v1/serviceaccounts', namespace: ns, name: sa },
          mergePatch: { metadata: { annotations } },
          serviceAccount: key,
        });
        const current = snap.serviceAccounts.get(key)?.[WI_ANNOTATIONS.clientId];
        if (current && current !== identity.clientID)
          move.warnings.push(`ServiceAccount ${key} is annotated with client ${current} already; the move would change it to ${identity.clientID}`);
      }
    }
  }

  // One identity's credential count across every binding that names it.
  const perIdentity = new Map<string, Set<string>>();
  for (const m of moves)
    if (m.identity) for (const c of m.credentials) perIdentity.set(m.identity.name, (perIdentity.get(m.identity.name) ?? new Set()).add(c.subject));
  for (const [name, subjects] of perIdentity)
    if (subjects.size > MAX_FEDERATED_CREDENTIALS)
      warnings.push(
        `AzureIdentity ${name} would need ${subjects.size} federated credentials, past Azure's ${MAX_FEDERATED_CREDENTIALS} per identity: share ServiceAccounts across those workloads, or split the identity`,
      );
  for (const [key, claims] of saClaims)
    if (claims.size > 1)
      warnings.push(
        `ServiceAccount ${key} is used by workloads with different identities (${[...claims].map(([id, who]) => `${id}: ${who.join(', ')}`).join('; ')}); workload identity reads one client ID from a ServiceAccount: give each its own ServiceAccount first`,
      );
  return { issuer: snap.issuer, moves, warnings };
}

/** The ServiceAccounts the plan would annotate with more than one client ID: --apply leaves them and their workloads alone. */
export function conflictedServiceAccounts(plan: WiPlan): Set<string> {
  const ids = new Map<string, Set<string>>();
  for (const m of plan.moves) {
    if (!m.identity?.clientID) continue;
    for (const w of m.workloads) {
      const key = `${w.namespace}/${w.serviceAccount}`;
      ids.set(key, (ids.get(key) ?? new Set()).add(m.identity.clientID));
    }
  }
  return new Set([...ids].filter(([, s]) => s.size > 1).map(([k]) => k));
}
