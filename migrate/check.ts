// `podid migrate check`, pure: given what an aad-pod-identity cluster holds, what moving to podid changes.
// Each finding says whether podid changes something silently-but-safely (change), needs the operator first
// (blocker), or only informs (info). The cluster is read elsewhere (cluster.ts); nothing here writes.

import { isRecord } from '../identity/fields.ts';
import { parseAzureIdentity, parseAzureIdentityBinding } from '../identity/parse.ts';
import { clientSecretOf } from '../aad/sp-credentials.ts';
import { describeViolation, podSpecViolations } from '../podspec/netraw-rule.ts';
import { readPodShape } from '../podspec/read-pod.ts';
import { templateLocation, at } from '../podspec/workloads.ts';

export type Severity = 'blocker' | 'change' | 'info';

export interface Finding {
  severity: Severity;
  area: 'netraw' | 'binding' | 'identity' | 'secret' | 'flag';
  subject: string;
  message: string;
}

export interface ClusterSnapshot {
  /** Pods and workloads as the API returns them (apiVersion/kind/metadata/spec). */
  workloads: unknown[];
  identities: unknown[];
  bindings: unknown[];
  /** Secret keys (never values) and, for type 1, whether podid can read one secret out of them. */
  secrets: Map<string, Record<string, Buffer>>;
  /** Command-line flags of the MIC and NMI containers found, e.g. `--forceNamespaced=true`. */
  aadPodIdentityFlags: string[];
  /** Namespaces the NET_RAW rule skips (podid's default: kube-system). */
  exemptNamespaces: string[];
}

/** aad-pod-identity's MIC/NMI flags and what podid offers instead ('' when podid needs nothing). */
const FLAG_EQUIVALENTS: Record<string, string> = {
  forcenamespaced: '--force-namespaced on podid nmi',
  blockinstancemetadata: '--block-instance-metadata on podid nmi',
  metadataheaderrequired: '', // podid always requires the Metadata header, as IMDS does
  nodename: '', // podid nmi reads PODID_NODE_NAME from the downward API (deploy/ sets it)
  'http-probe-port': '', // podid's probes are in deploy/
  'prometheus-port': '', // podid serves /metrics on its listen port
  'operation-mode': '--mode on podid controller and podid nmi (standard: kubectl apply -k deploy/overlays/standard)',
  kubeconfig: '--kubeconfig',
  cloudconfig: '--cloud-config on podid controller (deploy/overlays/standard mounts /etc/kubernetes/azure.json)',
  'immutable-user-msis': '--immutable-identities on podid controller (resource IDs)',
  'update-user-msi-max-retry': '', // podid retries ARM on Retry-After and with backoff, without a cap
  'update-user-msi-retry-interval': '',
  'identity-assignment-reconcile-interval': '--resync on podid controller',
  enablescalefeatures: '',
  createdeletebatch: '',
  clientqps: '',
  'sync-retry-duration': '',
  'leader-election-namespace': '',
  'leader-election-name': '',
  'leader-election-duration': '',
  'retry-attempts-for-created': '--pod-wait on podid nmi',
  'retry-attempts-for-assigned': '--pod-wait on podid nmi',
  'find-identity-retry-interval': '--pod-wait on podid nmi',
  'allow-network-plugin-kubenet': '', // podid closes NET_RAW itself (the NET_RAW rule), so kubenet is safe
  ipt: '--intercept on podid nmi (deploy/ sets it)',
  'ipt-interface': '--intercept-exclude-interfaces on podid nmi',
  'set-retry-after-header': '', // podid always sends Retry-After on transient failures
  'enable-conntrack-deletion': '',
  'ipt-max-retry': '',
};

const nameOf = (o: unknown) => {
  const m = isRecord(o) && isRecord(o.metadata) ? o.metadata : {};
  return `${typeof m.namespace === 'string' ? m.namespace : 'default'}/${typeof m.name === 'string' ? m.name : '?'}`;
};

/** Workloads and unowned pods: what the NET_RAW rule will fix (change) and what it will deny (blocker). */
function netRawFindings(s: ClusterSnapshot): Finding[] {
  const out: Finding[] = [];
  for (const o of s.workloads) {
    if (!isRecord(o) || !isRecord(o.metadata)) continue;
    const kind = String(o.kind ?? '');
    const group = String(o.apiVersion ?? '').includes('/') ? String(o.apiVersion).split('/')[0]! : '';
    const loc = templateLocation({ group, version: 'v1', kind });
    const ns = typeof o.metadata.namespace === 'string' ? o.metadata.namespace : 'default';
    const owned = Array.isArray(o.metadata.ownerReferences) && o.metadata.ownerReferences.length > 0;
    if (!loc || owned || s.exemptNamespaces.includes(ns)) continue;
    const read = readPodShape(at(o, loc.path), loc.label);
    if (!read.ok) continue;
    const subject = `${kind} ${nameOf(o)}`;
    for (const v of podSpecViolations(read.pod.spec)) {
      const fixable = v.problems.length === 1 && v.problems[0] === 'not-dropped';
      out.push(
        fixable
          ? {
              severity: 'change',
              area: 'netraw',
              subject,
              message: `${v.kind} "${v.name}" does not drop NET_RAW: podid drops it in each pod as it is created (--netraw=fix)`,
            }
          : { severity: 'blocker', area: 'netraw', subject, message: `will be denied: ${describeViolation(v)} (or exempt its namespace or labels)` },
      );
    }
  }
  return out;
}

function identityFindings(s: ClusterSnapshot): Finding[] {
  const out: Finding[] = [];
  const identities = new Set<string>();
  for (const raw of s.identities) {
    const parsed = parseAzureIdentity(raw);
    const subject = `AzureIdentity ${nameOf(raw)}`;
    if (!parsed.ok) {
      out.push({ severity: 'blocker', area: 'identity', subject, message: parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ') });
      continue;
    }
    const id = parsed.value;
    identities.add(`${id.namespace}/${id.name}`);
    if (id.type !== 1 || !id.clientPassword) continue;
    const ref = `${id.clientPassword.namespace}/${id.clientPassword.name}`;
    const data = s.secrets.get(ref);
    if (!data) {
      out.push({ severity: 'blocker', area: 'secret', subject, message: `Secret ${ref} was not found` });
      continue;
    }
    try {
      clientSecretOf(data);
      const keys = Object.keys(data);
      if (keys.length === 1 && keys[0] !== 'clientsecret')
        out.push({ severity: 'info', area: 'secret', subject, message: `Secret ${ref}: read under key "${keys[0]}"` });
    } catch (err) {
      out.push({ severity: 'blocker', area: 'secret', subject, message: `Secret ${ref} ${(err as Error).message}` });
    }
  }
  for (const raw of s.bindings) {
    const parsed = parseAzureIdentityBinding(raw);
    const subject = `AzureIdentityBinding ${nameOf(raw)}`;
    if (!parsed.ok) out.push({ severity: 'blocker', area: 'binding', subject, message: parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ') });
    else if (!identities.has(`${parsed.value.namespace}/${parsed.value.azureIdentity}`)) {
      out.push({
        severity: 'blocker',
        area: 'binding',
        subject,
        message: `names AzureIdentity ${parsed.value.namespace}/${parsed.value.azureIdentity}, which does not exist: its pods get no token`,
      });
    }
  }
  return out;
}

function flagFindings(s: ClusterSnapshot): Finding[] {
  const out: Finding[] = [];
  for (const arg of s.aadPodIdentityFlags) {
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    const equivalent = FLAG_EQUIVALENTS[name];
    if (equivalent === '') continue;
    out.push(
      equivalent === undefined
        ? { severity: 'blocker', area: 'flag', subject: arg, message: 'no podid equivalent known: check what it did for you before switching' }
        : { severity: equivalent.includes('not yet available') ? 'blocker' : 'info', area: 'flag', subject: arg, message: `in podid: ${equivalent}` },
    );
  }
  return out;
}

export function checkMigration(s: ClusterSnapshot): Finding[] {
  const order: Record<Severity, number> = { blocker: 0, change: 1, info: 2 };
  return [...identityFindings(s), ...netRawFindings(s), ...flagFindings(s)].sort((a, b) => order[a.severity] - order[b.severity]);
}

/** The commands that install podid in place of aad-pod-identity (printed after the findings). */
export const INSTALL_STEPS = [
  'kubectl delete deployment,daemonset -n <aad-pod-identity namespace> -l app.kubernetes.io/name=aad-pod-identity  # MIC and NMI; keep the CRDs and your objects',
  'kubectl apply -k deploy/   # podid: CRDs (same group, both casings), webhook, NMI; NET_RAW fixed in new pods',
];

/** A table for people: severity, area, subject, message. */
export function findingsTable(findings: readonly Finding[]): string {
  if (!findings.length) return 'nothing changes: podid reads this cluster as aad-pod-identity did\n';
  const rows = findings.map((f) => [f.severity.toUpperCase(), f.area, f.subject, f.message]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['SEVERITY', 'AREA', 'SUBJECT'][i]!.length));
  const line = (r: string[]) =>
    `${r
      .slice(0, 3)
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')}  ${r[3]}`;
  return `${[line(['SEVERITY', 'AREA', 'SUBJECT', 'WHAT CHANGES']), ...rows.map(line)].join('\n')}\n`;
}
