// The token half of `podid demo`: the AAD and IMDS emulators, NMI, and the sidecar of the sample pod, all
// on loopback, and a real Azure SDK call made with exactly the variables the webhook injected.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { startDataPlane } from '../emulators/dataplane.ts';
import { startWorld } from '../emulators/world.ts';
import { decodeJwt } from '../emulators/jwt.ts';
import { startLocalNmi } from '../emulators/local-nmi.ts';
import { nmiClient } from '../sidecar/nmi-client.ts';
import { startSidecar } from '../sidecar/server.ts';
import { HOST_TOKEN_PATH } from '../tokens/nmi-contract.ts';
import { APP_SERVICE_TOKEN_PATH, IMDS_API_VERSION, IMDS_TOKEN_PATH } from '../tokens/wire.ts';

export interface TokenDemo {
  lines: string[];
  tryLines: string[];
  close(): Promise<void>;
}

export async function runTokenDemo(dir: string, selector: string, injected: Record<string, string>): Promise<TokenDemo> {
  const world = await startWorld(dir);
  const nmi = await startLocalNmi(world, dir);
  nmi.store.upsertBinding({ name: `${selector}-binding`, namespace: 'demo', namespaced: false, azureIdentity: 'sp-cert', selector });
  const tokenFile = join(dir, 'sa-token');
  await writeFile(tokenFile, nmi.addPod({ name: 'sample', labels: { aadpodidbinding: selector } }));
  const sidecar = await startSidecar(
    {
      listen: { host: '127.0.0.1', port: 0 },
      healthListen: { host: '127.0.0.1', port: 0 },
      identityHeader: injected.IDENTITY_HEADER ?? '',
      refreshAheadSeconds: 300,
      maxEntries: 64,
    },
    nmiClient(nmi.url, tokenFile),
    () => {},
  );
  // Key Vault as the sample app's data plane: it checks the token (tenant signature, audience, expiry, object id).
  const vault = await startDataPlane({ tenant: world.tenant, tls: { cert: world.tls.cert, key: world.tls.key }, authorityHost: world.aad.url });
  vault.secrets.set('db-password', 'hunter2-from-the-vault');
  vault.granted.add(world.identities.find((i) => i.name === 'sp-cert')!.objectID!);
  const close = async () => {
    await vault.close();
    await sidecar.close();
    await nmi.close();
    await world.close();
  };
  const lines = [`Emulated Azure AD at ${world.aad.url} and node IMDS at ${world.imds.url}; NMI at ${nmi.url}; the pod's sidecar at ${sidecar.tokenUrl}.`];
  // The webhook's addresses name the sidecar's port in the pod (2578); here it listens on a free one.
  const env: Record<string, string> = {
    ...injected,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: sidecar.tokenUrl,
    IDENTITY_ENDPOINT: `${sidecar.tokenUrl}${APP_SERVICE_TOKEN_PATH}`,
  };
  try {
    // A real SDK, unmodified: only the variables the webhook injected are set.
    const { ManagedIdentityCredential } = await import('@azure/identity');
    Object.assign(process.env, env);
    const token = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default');
    const c = decodeJwt(token.token).claims;
    lines.push(
      `@azure/identity ManagedIdentityCredential().getToken('https://vault.azure.net/.default') in the app container got a token:`,
      `  aud ${String(c.aud)}  appid ${String(c.appid)}  oid ${String(c.oid)}  tid ${String(c.tid)}  expires ${new Date(token.expiresOnTimestamp).toISOString()}`,
      `  (binding ${selector} → AzureIdentity demo/sp-cert: the sidecar asked NMI, NMI asked Azure AD with the identity's certificate)`,
    );
    // The emulated vault's certificate comes from the demo's throwaway CA; trust it in this process only.
    setDefaultCACertificates([...getCACertificates('default'), world.tls.caPem]);
    const { SecretClient } = await import('@azure/keyvault-secrets');
    const secret = await new SecretClient(vault.url, new ManagedIdentityCredential(), { disableChallengeResourceVerification: true }).getSecret('db-password');
    lines.push(
      `@azure/keyvault-secrets SecretClient(${vault.url}).getSecret('db-password') with that credential: "${secret.value}" (the vault checked the token)`,
    );
  } catch (err) {
    lines.push(`(no SDK call: ${(err as Error).message}; try the curl lines below)`);
  }
  const tryLines = [
    `  curl -H Metadata:true '${sidecar.tokenUrl}${IMDS_TOKEN_PATH}?api-version=${IMDS_API_VERSION}&resource=https://vault.azure.net'`,
    `  curl -H 'X-IDENTITY-HEADER: ${env.IDENTITY_HEADER ?? ''}' '${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://storage.azure.com'`,
    `  curl -H podname:sample -H podns:demo '${nmi.url}${HOST_TOKEN_PATH}/?resource=https://vault.azure.net'`,
    `  curl ${nmi.url}/metrics | grep podid_nmi_token`,
  ];
  return { lines, tryLines, close };
}
