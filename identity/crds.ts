// The four aad-pod-identity custom resources as podid understands them,
// after parsing (see parse.ts): one spelling of every field, defaults applied.

export const API_GROUP = 'aadpodidentity.k8s.io';
export const API_VERSION = 'v1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** The pod label that names the binding selector a pod wants. */
export const BINDING_LABEL = 'aadpodidbinding';

/** aad-pod-identity's per-object annotation that limits a binding or identity to its own namespace. */
export const BEHAVIOR_ANNOTATION = 'aadpodidentity.k8s.io/Behavior';
export const BEHAVIOR_NAMESPACED = 'namespaced';

export const IdentityType = {
  UserAssignedMSI: 0,
  ServicePrincipal: 1,
  ServicePrincipalCertificate: 2,
  /** podid extension: a service principal trusting NMI's projected service-account token (workload identity federation). */
  FederatedServicePrincipal: 3,
} as const;
export type IdentityType = (typeof IdentityType)[keyof typeof IdentityType];

export const identityTypeName: Record<IdentityType, string> = {
  0: 'user-assigned managed identity',
  1: 'service principal with secret',
  2: 'service principal with certificate',
  3: 'service principal with federated credential',
};

export interface SecretRef {
  name: string;
  namespace: string;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  /** True when the object carries `aadpodidentity.k8s.io/Behavior: namespaced`. */
  namespaced: boolean;
}

export interface AzureIdentity extends ObjectMeta {
  type: IdentityType;
  clientID?: string;
  resourceID?: string;
  /** podid extension: the identity's principal (object) id, for `object_id` selection. */
  objectID?: string;
  tenantID?: string;
  clientPassword?: SecretRef;
  adEndpoint?: string;
}

export interface AzureIdentityBinding extends ObjectMeta {
  azureIdentity: string;
  selector: string;
}

export interface AzurePodIdentityException extends ObjectMeta {
  podLabels: Record<string, string>;
}

export const AssignedStatus = {
  Created: 'Created',
  Assigned: 'Assigned',
  Unassigned: 'Unassigned',
} as const;
export type AssignedStatus = (typeof AssignedStatus)[keyof typeof AssignedStatus];

export interface AzureAssignedIdentity extends ObjectMeta {
  identityName: string;
  bindingName: string;
  pod: string;
  podNamespace: string;
  nodeName: string;
  status?: AssignedStatus;
}

/** What the matching logic needs to know about a pod. */
export interface PodRef {
  name: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
}
