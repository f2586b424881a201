// The one AzureAssignedIdentity writer, on podid's Kubernetes client: NMI (managed mode, one node's objects) and the
// controller (standard mode, its records) both write through it. Creates and deletes are idempotent: a 409 on
// create and a 404 on delete mean it is already so.

import { statusOf, type KubeClient } from '../common/kube-client.ts';
import { API_GROUP, API_VERSION } from './crds.ts';

export const ASSIGNED_PATH = `/apis/${API_GROUP}/${API_VERSION}/azureassignedidentities`;
const JSON_PATCH = 'application/json-patch+json';

export const assignedPath = (namespace: string, name?: string): string =>
  `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/azureassignedidentities${name ? `/${name}` : ''}`;

export class AssignedWriter {
  private readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  /** Creates the object (an existing one is kept) and sets its status subresource. */
  async create(namespace: string, name: string, body: Record<string, unknown>, status: string): Promise<void> {
    try {
      await this.client.request('POST', assignedPath(namespace), { body });
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    await this.setStatus(namespace, name, status);
  }

  setStatus(namespace: string, name: string, status: string): Promise<unknown> {
    return this.patch(namespace, name, [{ op: 'add', path: '/status', value: { status } }], '/status');
  }

  /** A JSON Patch of the object (or, with `subresource`, of that subresource). */
  patch(namespace: string, name: string, ops: readonly object[], subresource = ''): Promise<unknown> {
    return this.client.request('PATCH', `${assignedPath(namespace, name)}${subresource}`, { body: ops, contentType: JSON_PATCH });
  }

  /** Deletes the object, its finalizers cleared first when it has some (no MIC is left to honour them); gone is done. */
  async remove(namespace: string, name: string, hasFinalizers = false): Promise<void> {
    if (hasFinalizers) await this.patch(namespace, name, [{ op: 'add', path: '/metadata/finalizers', value: [] }]);
    try {
      await this.client.request('DELETE', assignedPath(namespace, name));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}
