// The node of the interception test, run inside the node network namespace the test made: the AAD, IMDS and
// ARM emulators, NMI (in-process wiring, pods given by the test) and the real iptables manager. Prints one
// JSON line when ready; on SIGTERM removes the rules, stops, and prints {"stopped": true}.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, createServingCert } from '../../certs/generate.ts';
import { createLogger } from '../../common/log.ts';
import { iptablesRunner, startInterception } from '../../nmi/iptables.ts';
import { defaultInterceptConfig } from '../../nmi/iptables-rules.ts';
import { startArm } from '../../emulators/arm.ts';
import { startWorld } from '../../emulators/world.ts';
import { startLocalNmi } from '../../emulators/local-nmi.ts';

interface PodSpec {
  name: string;
  ip: string;
  selector: string;
}

const pods = JSON.parse(process.env.PODS ?? '[]') as PodSpec[];
const nmiIP = process.env.NMI_IP!;
const nmiPort = Number(process.env.NMI_PORT ?? 2579);

const dir = await mkdtemp(join(tmpdir(), 'podid-netns-node-'));
const world = await startWorld(dir);
const nmi = await startLocalNmi(world, dir, { listen: { host: '0.0.0.0', port: nmiPort }, podWaitMs: 500 });
// Each pod's service-account token as NMI's test reviewer knows it (what the kubelet would mount in the pod).
const saTokens = Object.fromEntries(pods.map((p) => [p.name, nmi.addPod({ name: p.name, labels: { aadpodidbinding: p.selector }, ips: [p.ip] })]));

// ARM as `az` reaches it: management.azure.com (the pod's hosts file points it here) with a certificate for that name.
const armCA = createCA({ commonName: 'podid ARM emulator CA', validityDays: 1 });
const armCert = createServingCert(armCA, {
  commonName: 'management.azure.com',
  dnsNames: ['management.azure.com'],
  ipAddresses: [nmiIP],
  validityDays: 1,
});
const armCaFile = join(dir, 'arm-ca.pem');
await writeFile(armCaFile, armCA.certPem);
const arm = await startArm({ tenant: world.tenant, tls: { cert: armCert.certPem, key: armCert.keyPem }, host: nmiIP, port: 443 });

// Interfaces never intercepted (the test's env-only pod: a miss there has nowhere to go).
const excludeInterfaces = (process.env.EXCLUDE_INTERFACES ?? '').split(',').filter(Boolean);
const stopInterception = await startInterception(
  iptablesRunner(),
  { ...defaultInterceptConfig, nmiIP, nmiPort, excludeInterfaces },
  60_000,
  createLogger('nmi', 'silent'),
);

const sp = (name: string) => world.identities.find((i) => i.name === name)!;
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    tenantId: world.tenant.id,
    publicKeyPem: world.tenant.publicKey.export({ type: 'spki', format: 'pem' }),
    armCaFile,
    subscriptionId: arm.subscriptionId,
    identities: Object.fromEntries(
      world.identities.map((i) => [i.name, { clientID: i.clientID ?? world.msi2.clientId, objectID: i.objectID ?? world.msi2.objectId }]),
    ),
    msi: world.msi,
    spCert: { clientID: sp('sp-cert').clientID },
    saTokens,
  })}\n`,
);

process.on('SIGTERM', async () => {
  await stopInterception();
  await Promise.all([nmi.close(), arm.close(), world.close()]);
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ stopped: true, imdsRequests: world.imds.requests.length, armRequests: arm.requests })}\n`);
  process.exit(0);
});
