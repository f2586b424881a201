// A real Node application: @azure/identity with only the environment podid's webhook injects.
// Usage: node node-identity.mjs <scope> [mi|default] [clientId=<id>|resourceId=<id>|objectId=<id>]. Prints the token.
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';

const [scope, mode = 'mi', selector = ''] = process.argv.slice(2);
const [kind, value] = selector.split('=');
const id = kind === 'clientId' ? { clientId: value } : kind === 'resourceId' ? { resourceId: value } : kind === 'objectId' ? { objectId: value } : {};
const credential =
  mode === 'default' ? new DefaultAzureCredential(id.clientId ? { managedIdentityClientId: id.clientId } : {}) : new ManagedIdentityCredential(id);
const token = await credential.getToken(scope);
process.stdout.write(token.token);
