// An emulated Azure for tests, the demo and the benchmarks: one tenant with two user-assigned managed
// identities on the node, and three app registrations (client secret, certificate, federated credential),
// served by the AAD (HTTPS) and IMDS emulators, plus the matching podid objects and Secrets.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createCA, createServingCert } from '../certs/generate.ts';
import type { AzureIdentity, AzureIdentityBinding } from '../identity/crds.ts';
import { startAad, type RunningAad } from './aad.ts';
import { startImds, type RunningImds } from './imds.ts';
import { signJwt } from './jwt.ts';
import { Tenant, type ManagedIdentity } from './tenant.ts';
import { createTestTls, type TestTls } from './test-ca.ts';

export interface World {
  tenant: Tenant;
  tls: TestTls;
  aad: RunningAad;
  imds: RunningImds;
  /** Two user-assigned identities attached to the (emulated) node. */
  msi: ManagedIdentity;
  msi2: ManagedIdentity;
  /** podid objects for all five identities, in namespace `demo`, each bound by selector = its name. */
  identities: AzureIdentity[];
  bindings: AzureIdentityBinding[];
  /** Kubernetes Secret data by "namespace/name". */
  secrets: Map<string, Record<string, Buffer>>;
  /** A federated assertion file's content: a service-account-like JWT the tenant trusts for `federated`. */
  federatedAssertion(): string;
  close(): Promise<void>;
}

const NS = 'demo';

export async function startWorld(dir: string, opts: { host?: string } = {}): Promise<World> {
  // A host other than loopback is named in the emulators' certificate too.
  const tenant = new Tenant();
  const tls = await createTestTls(dir, opts.host && opts.host !== '127.0.0.1' ? [opts.host] : []);
  const msi: ManagedIdentity = {
    clientId: randomUUID(),
    objectId: randomUUID(),
    resourceId: `/subscriptions/${randomUUID()}/resourcegroups/podid/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-msi`,
  };
  const msi2: ManagedIdentity = {
    clientId: randomUUID(),
    objectId: randomUUID(),
    resourceId: `/subscriptions/${randomUUID()}/resourcegroups/podid/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other-msi`,
  };
  tenant.managedIdentities.push(msi, msi2);

  const secret = `s3cret-${randomUUID()}`;
  const certCA = createCA({ commonName: 'podid sp cert issuer', validityDays: 2 });
  const spCert = createServingCert(certCA, { commonName: 'podid-sp', dnsNames: ['podid-sp'], ipAddresses: [], validityDays: 1 });
  const issuerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const federatedIssuer = 'https://kubernetes.default.svc.cluster.local';
  const federatedSubject = 'system:serviceaccount:podid-system:podid-nmi';
  const apps = {
    secret: { clientId: randomUUID(), objectId: randomUUID(), secret },
    certificate: { clientId: randomUUID(), objectId: randomUUID(), certificatePem: spCert.certPem },
    federated: {
      clientId: randomUUID(),
      objectId: randomUUID(),
      federated: [
        {
          issuer: federatedIssuer,
          subject: federatedSubject,
          publicKeyPem: issuerKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      ],
    },
  };
  tenant.apps.push(apps.secret, apps.certificate, apps.federated);

  const meta = (name: string) => ({ name, namespace: NS, namespaced: false });
  /** Types 1 and 2 read their credential from the Secret of the same name; type 3 needs none. */
  const servicePrincipal = (name: string, type: 1 | 2 | 3, app: { clientId: string; objectId: string }): AzureIdentity => ({
    ...meta(name),
    type,
    clientID: app.clientId,
    objectID: app.objectId,
    tenantID: tenant.id,
    ...(type === 3 ? {} : { clientPassword: { name, namespace: NS } }),
  });
  const identities: AzureIdentity[] = [
    { ...meta('app-msi'), type: 0, clientID: msi.clientId, resourceID: msi.resourceId, objectID: msi.objectId },
    { ...meta('other-msi'), type: 0, resourceID: msi2.resourceId },
    servicePrincipal('sp-secret', 1, apps.secret),
    servicePrincipal('sp-cert', 2, apps.certificate),
    servicePrincipal('sp-federated', 3, apps.federated),
  ];
  const bindings: AzureIdentityBinding[] = identities.map((i) => ({
    ...meta(`${i.name}-binding`),
    azureIdentity: i.name,
    selector: i.name,
  }));
  const secrets = new Map<string, Record<string, Buffer>>([
    [`${NS}/sp-secret`, { clientsecret: Buffer.from(secret) }],
    [`${NS}/sp-cert`, { certificate: Buffer.from(spCert.certPem + spCert.keyPem) }],
  ]);

  const aad = await startAad({ tenant, tls: { cert: tls.cert, key: tls.key }, host: opts.host });
  const imds = await startImds({ tenant, host: opts.host });
  return {
    tenant,
    tls,
    aad,
    imds,
    msi,
    msi2,
    identities,
    bindings,
    secrets,
    federatedAssertion: () => {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        { iss: federatedIssuer, sub: federatedSubject, aud: ['api://AzureADTokenExchange'], iat: now, nbf: now, exp: now + 3600 },
        issuerKeys.privateKey,
      );
    },
    close: async () => void (await Promise.all([aad.close(), imds.close()])),
  };
}
