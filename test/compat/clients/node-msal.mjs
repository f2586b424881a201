// A real Node application: @azure/msal-node ManagedIdentityApplication with only the environment podid's
// webhook injects. Usage: node node-msal.mjs <resource> [clientId=<id>|resourceId=<id>|objectId=<id>]. Prints the token.
import { ManagedIdentityApplication } from '@azure/msal-node';

const [resource, selector = ''] = process.argv.slice(2);
const [kind, value] = selector.split('=');
const managedIdentityIdParams =
  kind === 'clientId'
    ? { userAssignedClientId: value }
    : kind === 'resourceId'
      ? { userAssignedResourceId: value }
      : kind === 'objectId'
        ? { userAssignedObjectId: value }
        : undefined;
const app = new ManagedIdentityApplication(managedIdentityIdParams ? { managedIdentityIdParams } : {});
const result = await app.acquireToken({ resource });
process.stdout.write(result.accessToken);
