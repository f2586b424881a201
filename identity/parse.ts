// Parsers from Kubernetes JSON to the model in crds.ts. They accept every casing
// aad-pod-identity manifests use and name the field in each error.

import {
  AssignedStatus,
  BEHAVIOR_ANNOTATION,
  BEHAVIOR_NAMESPACED,
  IdentityType,
  identityTypeName,
  type AzureAssignedIdentity,
  type AzureIdentity,
  type AzureIdentityBinding,
  type AzurePodIdentityException,
  type ObjectMeta,
  type SecretRef,
} from './crds.ts';
import { FieldReader, isRecord, type FieldError, type Parsed } from './fields.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;
const MSI_RESOURCE_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i;

interface Envelope {
  meta: ObjectMeta;
  spec: FieldReader;
  errors: FieldError[];
}

/** Reads metadata and opens `spec` (or `status` for the fields that live there). */
function open(obj: unknown, defaultNamespace: string): Envelope | { errors: FieldError[] } {
  if (!isRecord(obj)) return { errors: [{ field: '', message: 'must be a JSON object' }] };
  const errors: FieldError[] = [];
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  if (!name) errors.push({ field: 'metadata.name', message: 'is required' });
  const namespace = typeof metadata.namespace === 'string' && metadata.namespace ? metadata.namespace : defaultNamespace;
  const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
  const behavior = annotations[BEHAVIOR_ANNOTATION];
  const namespaced = typeof behavior === 'string' && behavior.toLowerCase() === BEHAVIOR_NAMESPACED;
  const specValue = obj.spec;
  if (specValue !== undefined && !isRecord(specValue)) errors.push({ field: 'spec', message: 'must be an object' });
  const spec = new FieldReader(isRecord(specValue) ? specValue : {}, 'spec');
  spec.errors.push(...errors);
  return { meta: { name, namespace, namespaced }, spec, errors: spec.errors };
}

function finish<T>(reader: FieldReader, value: T): Parsed<T> {
  return reader.errors.length ? { ok: false, errors: reader.errors } : { ok: true, value };
}

function identityType(spec: FieldReader): IdentityType {
  const raw = spec.raw('type');
  const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (n === undefined || n === null) return IdentityType.UserAssignedMSI;
  if (typeof n === 'number' && n in identityTypeName) return n as IdentityType;
  const known = Object.entries(identityTypeName).map(([t, name]) => `${t} (${name})`);
  spec.fail('type', `must be ${known.slice(0, -1).join(', ')} or ${known.at(-1)}, got ${JSON.stringify(raw)}`);
  return IdentityType.UserAssignedMSI;
}

function secretRef(spec: FieldReader, field: string, defaultNamespace: string): SecretRef | undefined {
  const raw = spec.record(field);
  if (!raw) return undefined;
  const ref = new FieldReader(raw, spec.at(field));
  const name = ref.requiredString('name');
  const namespace = ref.optionalString('namespace') ?? defaultNamespace;
  spec.errors.push(...ref.errors);
  return name ? { name, namespace } : undefined;
}

export function parseAzureIdentity(obj: unknown, defaultNamespace = 'default'): Parsed<AzureIdentity> {
  const env = open(obj, defaultNamespace);
  if (!('meta' in env)) return { ok: false, errors: env.errors };
  const { meta, spec } = env;
  const type = identityType(spec);
  const clientID = spec.optionalString('clientID');
  const resourceID = spec.optionalString('resourceID');
  const objectID = spec.optionalString('objectID');
  const tenantID = spec.optionalString('tenantID');
  const adEndpoint = spec.optionalString('adEndpoint');
  const clientPassword = secretRef(spec, 'clientPassword', meta.namespace);

  if (clientID !== undefined && !GUID.test(clientID)) spec.fail('clientID', `must be a GUID, got "${clientID}"`);
  if (objectID !== undefined && !GUID.test(objectID)) spec.fail('objectID', `must be a GUID, got "${objectID}"`);
  if (tenantID !== undefined && !TENANT.test(tenantID)) spec.fail('tenantID', `must be a GUID or a domain name, got "${tenantID}"`);
  if (adEndpoint !== undefined && !/^https:\/\/[^\s/]+/i.test(adEndpoint)) spec.fail('adEndpoint', 'must be an https URL');
  // aad-pod-identity fetched extra tokens for these tenants (ARM's cross-tenant auxiliary header); podid does not,
  // and refusing the object says so where silently serving a token without them would not.
  const auxiliary = spec.raw('auxiliaryTenantIDs');
  if (Array.isArray(auxiliary) ? auxiliary.length > 0 : auxiliary !== undefined && auxiliary !== null && auxiliary !== '') {
    spec.fail('auxiliaryTenantIDs', 'is not supported by podid (it serves one tenant per identity): remove it, or use one AzureIdentity per tenant');
  }
  if (type === IdentityType.UserAssignedMSI) {
    if (clientID === undefined && resourceID === undefined) {
      spec.fail('clientID', 'a user-assigned identity (type 0) needs clientID or resourceID');
    }
    if (resourceID !== undefined && !MSI_RESOURCE_ID.test(resourceID)) {
      spec.fail('resourceID', 'must look like /subscriptions/<id>/resourcegroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>');
    }
  } else {
    const kind = `a ${identityTypeName[type]} (type ${type})`;
    if (clientID === undefined) spec.fail('clientID', `is required for ${kind}`);
    if (tenantID === undefined) spec.fail('tenantID', `is required for ${kind}`);
    if (
      type !== IdentityType.FederatedServicePrincipal &&
      clientPassword === undefined &&
      !spec.errors.some((e) => e.field.startsWith('spec.clientPassword'))
    ) {
      spec.fail(
        'clientPassword',
        `is required for ${kind}: a reference {name, namespace} to the Secret holding the ${type === 1 ? 'client secret' : 'certificate'}`,
      );
    }
  }
  return finish(spec, { ...meta, type, clientID, resourceID, objectID, tenantID, clientPassword, adEndpoint });
}

export function parseAzureIdentityBinding(obj: unknown, defaultNamespace = 'default'): Parsed<AzureIdentityBinding> {
  const env = open(obj, defaultNamespace);
  if (!('meta' in env)) return { ok: false, errors: env.errors };
  const { meta, spec } = env;
  const azureIdentity = spec.requiredString('azureIdentity', 'is required: the name of an AzureIdentity in the same namespace');
  const selector = spec.requiredString('selector', `is required: pods labeled aadpodidbinding=<selector> get the identity`);
  return finish(spec, { ...meta, azureIdentity, selector });
}

export function parseAzurePodIdentityException(obj: unknown, defaultNamespace = 'default'): Parsed<AzurePodIdentityException> {
  const env = open(obj, defaultNamespace);
  if (!('meta' in env)) return { ok: false, errors: env.errors };
  const { meta, spec } = env;
  const podLabels = spec.stringMap('podLabels');
  if (Object.keys(podLabels).length === 0 && !spec.errors.length) {
    spec.fail('podLabels', 'must name at least one label (an empty exception would match no pod)');
  }
  return finish(spec, { ...meta, podLabels });
}

/** aad-pod-identity embeds whole objects as references; podid also accepts a bare name. */
function refName(spec: FieldReader, field: string): string {
  const raw = spec.raw(field);
  if (typeof raw === 'string' && raw) return raw;
  if (isRecord(raw) && isRecord(raw.metadata) && typeof raw.metadata.name === 'string' && raw.metadata.name) {
    return raw.metadata.name;
  }
  spec.fail(field, 'is required: the referenced object or its name');
  return '';
}

export function parseAzureAssignedIdentity(obj: unknown, defaultNamespace = 'default'): Parsed<AzureAssignedIdentity> {
  const env = open(obj, defaultNamespace);
  if (!('meta' in env)) return { ok: false, errors: env.errors };
  const { meta, spec } = env;
  const identityName = refName(spec, 'azureIdentityRef');
  const bindingName = refName(spec, 'azureBindingRef');
  const pod = spec.requiredString('pod');
  const podNamespace = spec.requiredString('podNamespace');
  const nodeName = spec.requiredString('nodeName');
  const rawStatus = isRecord(obj) && isRecord(obj.status) ? new FieldReader(obj.status, 'status').optionalString('status') : undefined;
  let status: AssignedStatus | undefined;
  if (rawStatus !== undefined) {
    const known = Object.values(AssignedStatus).find((s) => s.toLowerCase() === rawStatus.toLowerCase());
    if (known) status = known;
    else spec.errors.push({ field: 'status.status', message: `must be Created, Assigned or Unassigned, got "${rawStatus}"` });
  }
  return finish(spec, { ...meta, identityName, bindingName, pod, podNamespace, nodeName, status });
}
