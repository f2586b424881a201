// The `podid` executable: one binary, one subcommand per server.

import { podidVersion } from '../common/version.ts';
import type { Command } from './flags.ts';
import { runCommand } from './run-command.ts';

/** Commands load on use, so `podid sidecar` never loads the webhook's dependencies (per-pod memory counts). */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command<any>>;
}

// One row per command: a table reads best unwrapped.
// prettier-ignore
export const commands: readonly CommandEntry[] = [
  { name: 'webhook', summary: 'HTTPS admission server: POST /mutate injects the token sidecar, POST /validate enforces the NET_RAW rule', load: async () => (await import('./webhook-command.ts')).webhookCommand },
  { name: 'sidecar', summary: 'per-pod token server on loopback speaking the IMDS and App Service token APIs, backed by NMI or by workload identity', load: async () => (await import('./sidecar-command.ts')).sidecarCommand },
  { name: 'nmi', summary: 'node daemon: resolves pod identities, serves tokens to sidecars and the CSI driver, intercepts metadata traffic', load: async () => (await import('./nmi-command.ts')).nmiCommand },
  { name: 'controller', summary: 'cluster controller (one leader): status columns for both field casings; in standard mode assigns identities to scale sets and VMs through ARM', load: async () => (await import('./controller-command.ts')).controllerCommand },
  { name: 'certs init', summary: 'create or renew the webhook CA and serving certificate in their Secret and publish caBundle (one pass)', load: async () => (await import('./certs-command.ts')).certsInitCommand },
  { name: 'migrate check', summary: 'read an aad-pod-identity cluster and print what moving to podid changes (read-only): NET_RAW fixes and denials, bindings, identities, Secrets, MIC/NMI flags', load: async () => (await import('./migrate-command.ts')).migrateCheckCommand },
  { name: 'migrate workload-identity', summary: 'print what moving each AzureIdentityBinding to azure-workload-identity takes: federated credentials (az commands, ARM/JSON), ServiceAccount annotations and template labels (read-only unless --apply)', load: async () => (await import('./migrate-command.ts')).migrateWorkloadIdentityCommand },
  { name: 'identity create', summary: 'create an AzureIdentity and its AzureIdentityBinding (or print them with --dry-run)', load: async () => (await import('./identity-command.ts')).identityCreateCommand },
  { name: 'identity list', summary: 'list AzureIdentities with their binding selectors and the pods each serves', load: async () => (await import('./identity-command.ts')).identityListCommand },
  { name: 'identity delete', summary: 'delete an AzureIdentity and the AzureIdentityBindings that name it', load: async () => (await import('./identity-command.ts')).identityDeleteCommand },
  { name: 'exception add', summary: 'create an AzurePodIdentityException: pods with these labels reach the real IMDS (or print it with --dry-run)', load: async () => (await import('./identity-command.ts')).exceptionAddCommand },
  { name: 'exception list', summary: 'list AzurePodIdentityExceptions and the labels they match', load: async () => (await import('./identity-command.ts')).exceptionListCommand },
  { name: 'exception delete', summary: 'delete an AzurePodIdentityException', load: async () => (await import('./identity-command.ts')).exceptionDeleteCommand },
  { name: 'explain pod', summary: 'why a pod does or does not get a token: label, sidecar, binding, identity, exception, assignment, NET_RAW (read-only; exit 3 when it gets none)', load: async () => (await import('./explain-command.ts')).explainPodCommand },
  { name: 'demo', summary: 'run podid locally on loopback (webhook, NMI, a sidecar, AAD and IMDS emulators) and show a sample pod mutated and served a token', load: async () => (await import('./demo-command.ts')).demoCommand },
];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'podid: Azure AD (Entra ID) tokens for Kubernetes pods, without secrets in the pod.',
    '',
    'Usage: podid <command> [flags]     podid <command> --help     podid --version',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  // Commands may be two words (`certs init`).
  const two = commands.find((c) => c.name === argv.slice(0, 2).join(' '));
  const [name, ...rest] = two ? [two.name, ...argv.slice(2)] : argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`${podidVersion()}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    // A command group (`podid certs`): list its commands; `--help` asks for exactly that.
    const group = commands.filter((c) => c.name.startsWith(`${name} `));
    if (group.length) {
      const asked = rest[0] === '--help' || rest[0] === '-h';
      const text = `podid ${name} commands:\n${group.map((c) => `  podid ${c.name}  ${c.summary}`).join('\n')}\n`;
      (asked ? process.stdout : process.stderr).write(asked ? text : `podid: "${argv.join(' ')}" names no command\n\n${text}`);
      return asked ? 0 : 2;
    }
    process.stderr.write(`podid: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return runCommand(await entry.load(), rest, env);
}
