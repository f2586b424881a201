// The seeds' demo app: read a Key Vault secret and upload a blob with the real @azure/keyvault-secrets and
// @azure/storage-blob clients, authenticated by @azure/identity with only the environment podid injects.
// Usage: node node-dataplane.mjs <vault url> <blob account url> <secret name> [mi|default] [clientId=<id>|resourceId=<id>]
// Prints {"secret": <value>, "etag": <blob etag>}.
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { BlobServiceClient } from '@azure/storage-blob';

const [vaultUrl, accountUrl, secretName, mode = 'mi', selector = ''] = process.argv.slice(2);
const [kind, value] = selector.split('=');
const id = kind === 'clientId' ? { clientId: value } : kind === 'resourceId' ? { resourceId: value } : {};
const credential =
  mode === 'default' ? new DefaultAzureCredential(id.clientId ? { managedIdentityClientId: id.clientId } : {}) : new ManagedIdentityCredential(id);
// The emulated vault is not under vault.azure.net, so the challenge's resource cannot match its host name.
const secret = await new SecretClient(vaultUrl, credential, { disableChallengeResourceVerification: true }).getSecret(secretName);
const blob = new BlobServiceClient(accountUrl, credential, { retryOptions: { maxTries: 1 } }).getContainerClient('uploads').getBlockBlobClient('hello.txt');
const uploaded = await blob.upload('hello from a podid pod', 22);
process.stdout.write(JSON.stringify({ secret: secret.value, etag: uploaded.etag }));
