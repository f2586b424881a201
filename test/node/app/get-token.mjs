// The e2e app: unmodified @azure/identity asks for a token the way an application does, and one JSON line per
// attempt goes to stdout (the test reads it with `kubectl logs`): the claims that say whose token it is, never the
// token. argv: [credential] [scope] [then]; credential `default` (DefaultAzureCredential: it picks the endpoint
// from the environment the webhook injected), `managed` (ManagedIdentityCredential), `workload`
// (WorkloadIdentityCredential), `msal` (msal-node's ManagedIdentityApplication: App Service and IMDS only, no
// workload identity: an SDK that needs the workload-identity proxy); then `exit` (a
// Job's container) or `stay` (a Deployment's: ask again every PERIOD seconds, then sleep).
import { DefaultAzureCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import { ManagedIdentityApplication } from '@azure/msal-node';

const [kind = 'default', scope = 'https://vault.azure.net/.default', then = 'stay'] = process.argv.slice(2);
const period = Number(process.env.PERIOD ?? '0');
/** msal-node's managed identity, shaped like a credential: it picks App Service or IMDS from the environment. */
const msalManagedIdentity = () => {
  const app = new ManagedIdentityApplication(
    process.env.AZURE_CLIENT_ID ? { managedIdentityIdParams: { userAssignedClientId: process.env.AZURE_CLIENT_ID } } : {},
  );
  return { getToken: async (s) => ({ token: (await app.acquireToken({ resource: s.replace(/\/\.default$/, '') })).accessToken }) };
};
const credential =
  kind === 'msal'
    ? msalManagedIdentity()
    : kind === 'managed'
      ? new ManagedIdentityCredential(process.env.AZURE_CLIENT_ID ? { clientId: process.env.AZURE_CLIENT_ID } : {})
      : kind === 'workload'
        ? // MSAL sends instance discovery for an authority it does not know to login.microsoftonline.com; the emulator's
          // host is one, and the suite's namespace has no route out. @azure/identity's own AKS path turns it off the
          // same way (ManagedIdentityCredential's tokenExchangeMsi.js: disableInstanceDiscovery: true).
          new WorkloadIdentityCredential({ disableInstanceDiscovery: true })
        : new DefaultAzureCredential();

const claimsOf = (jwt) => {
  const c = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
  return { oid: c.oid, appid: c.appid, aud: c.aud, exp: c.exp };
};

let attempt = 0;
async function once() {
  attempt++;
  const started = Date.now();
  try {
    const t = await credential.getToken(scope);
    console.log(JSON.stringify({ attempt, ok: true, ms: Date.now() - started, at: new Date().toISOString(), claims: claimsOf(t.token) }));
    return true;
  } catch (err) {
    console.log(
      JSON.stringify({
        attempt,
        ok: false,
        ms: Date.now() - started,
        at: new Date().toISOString(),
        error: String(err?.message ?? err)
          .split('\n')[0]
          .slice(0, 300),
      }),
    );
    return false;
  }
}

const ok = await once();
if (then === 'exit') process.exit(ok ? 0 : 1);
if (period > 0) setInterval(once, period * 1000);
else setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
