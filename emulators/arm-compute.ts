// The slice of Azure Resource Manager's compute API that standard mode drives: GET and PATCH of a scale set's or
// VM's `identity`, as ARM answers them. A PATCH is accepted with the resource in `Updating` and an
// `Azure-AsyncOperation` URL to poll; the change shows once the operation succeeds. Like ARM it refuses more than
// 150 user-assigned identity changes in one request, a second update while one runs (409), a stale `If-Match`
// ETag (412), identities that do not exist, and it throttles on demand (429 + Retry-After).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { reply } from './faults.ts';
import type { ManagedIdentity } from './tenant.ts';

const LIMIT = 150;

interface Machine {
  id: string;
  kind: 'vmss' | 'vm';
  systemAssigned: boolean;
  /** Lower-cased resource id → as first spelled. */
  userAssigned: Map<string, string>;
  version: number;
  /** An operation under way: the state it ends in. */
  pending?: { op: string; done: Promise<void> };
}

interface Operation {
  status: 'InProgress' | 'Succeeded' | 'Failed';
  error?: { code: string; message: string };
}

type ArmFault = { status: number; code: string; message: string; retryAfterSeconds?: number };

export interface ComputeStats {
  gets: number;
  patches: number;
  polls: number;
  /** Largest number of identity changes one PATCH carried. */
  largestPatch: number;
  refused: Record<string, number>;
}

const err = (code: string, message: string) => ({ error: { code, message } });

export class ComputeEmulator {
  private readonly machines = new Map<string, Machine>();
  private readonly operations = new Map<string, Operation>();
  private readonly faults: Array<{ method?: string; fault: ArmFault }> = [];
  private nextOp = 1;
  /** How long an identity update runs before it succeeds (real scale sets: tens of seconds). */
  operationMs = 20;
  readonly stats: ComputeStats = { gets: 0, patches: 0, polls: 0, largestPatch: 0, refused: {} };
  /** Every PATCH's change count, in order. */
  readonly patchSizes: number[] = [];

  private readonly identities: () => readonly ManagedIdentity[];

  constructor(identities: () => readonly ManagedIdentity[]) {
    this.identities = identities;
  }

  /** Adds a scale set or VM, optionally with identities someone else assigned. */
  add(id: string, kind: 'vmss' | 'vm', opts: { userAssigned?: string[]; systemAssigned?: boolean } = {}): void {
    this.machines.set(id.toLowerCase(), {
      id,
      kind,
      systemAssigned: opts.systemAssigned ?? false,
      userAssigned: new Map((opts.userAssigned ?? []).map((u) => [u.toLowerCase(), u])),
      version: 1,
    });
  }

  /** The identity resource ids on a scale set or VM now (lower-cased). */
  assigned(id: string): string[] {
    return [...(this.machines.get(id.toLowerCase())?.userAssigned.keys() ?? [])];
  }

  /** Someone else changes the identities (the portal, Terraform): bumps the ETag. */
  setOutside(id: string, userAssigned: string[]): void {
    const m = this.machines.get(id.toLowerCase())!;
    m.userAssigned = new Map(userAssigned.map((u) => [u.toLowerCase(), u]));
    m.version++;
  }

  /** The next `times` requests (of `method`, or any) answer this error. */
  fail(fault: ArmFault, times = 1, method?: string): void {
    for (let i = 0; i < times; i++) this.faults.push({ method, fault });
  }

  /** Drops the faults not yet answered. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  throttle(retryAfterSeconds: number, times = 1, method?: string): void {
    this.fail({ status: 429, code: 'TooManyRequests', message: 'The request is being throttled.', retryAfterSeconds }, times, method);
  }

  private refuse(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
    reply(res, status, err(code, message), headers);
  }

  private view(m: Machine): unknown {
    const identities = new Map(this.identities().map((i) => [i.resourceId.toLowerCase(), i]));
    const user = Object.fromEntries(
      [...m.userAssigned.values()].map((id) => {
        const mi = identities.get(id.toLowerCase());
        return [id, { principalId: mi?.objectId, clientId: mi?.clientId }];
      }),
    );
    const type = m.systemAssigned ? (m.userAssigned.size ? 'SystemAssigned, UserAssigned' : 'SystemAssigned') : m.userAssigned.size ? 'UserAssigned' : 'None';
    return {
      id: m.id,
      name: m.id.split('/').pop(),
      type: m.kind === 'vmss' ? 'Microsoft.Compute/virtualMachineScaleSets' : 'Microsoft.Compute/virtualMachines',
      location: 'westeurope',
      etag: `"${m.version}"`,
      identity: {
        type,
        ...(m.systemAssigned ? { principalId: '00000000-0000-0000-0000-0000000000aa', tenantId: 'emulated' } : {}),
        ...(m.userAssigned.size ? { userAssignedIdentities: user } : {}),
      },
      properties: { provisioningState: m.pending ? 'Updating' : 'Succeeded' },
    };
  }

  /** Serves compute paths; false when the path is not one of them. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, base: string): Promise<boolean> {
    const op = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/locations\/[^/]+\/operations\/([^/]+)$/i.exec(url.pathname);
    const machine = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/(virtualMachineScaleSets|virtualMachines)\/[^/]+$/i.exec(
      url.pathname,
    );
    if (!op && !machine) return false;
    if (url.searchParams.get('api-version') === null) {
      this.refuse(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
      return true;
    }
    const i = this.faults.findIndex((f) => !f.method || f.method === req.method);
    if (i >= 0) {
      const { fault } = this.faults.splice(i, 1)[0]!;
      this.refuse(
        res,
        fault.status,
        fault.code,
        fault.message,
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
      );
      return true;
    }
    if (op) {
      this.stats.polls++;
      const o = this.operations.get(op[1]!);
      if (!o) this.refuse(res, 404, 'NotFound', `operation ${op[1]} not found`);
      else reply(res, 200, { name: op[1], status: o.status, ...(o.error ? { error: o.error } : {}) });
      return true;
    }
    const m = this.machines.get(url.pathname.toLowerCase());
    if (!m) {
      this.refuse(res, 404, 'ResourceNotFound', `The Resource '${url.pathname.split('/providers/')[1]}' was not found.`);
      return true;
    }
    if (req.method === 'GET') {
      this.stats.gets++;
      reply(res, 200, this.view(m));
      return true;
    }
    if (req.method !== 'PATCH') {
      this.refuse(res, 405, 'MethodNotAllowed', `the emulator serves GET and PATCH of ${url.pathname}`);
      return true;
    }
    const body = await readJson(req);
    this.patch(m, body, req.headers['if-match'], res, base, url.searchParams.get('api-version')!);
    return true;
  }

  private patch(m: Machine, body: any, ifMatch: string | string[] | undefined, res: ServerResponse, base: string, apiVersion: string): void {
    this.stats.patches++;
    const identity = body?.identity;
    if (!identity || typeof identity.type !== 'string') return this.refuse(res, 400, 'InvalidParameter', "Required parameter 'identity.type' is missing.");
    const changes: Record<string, unknown> = identity.userAssignedIdentities ?? {};
    const count = Object.keys(changes).length;
    this.patchSizes.push(count);
    this.stats.largestPatch = Math.max(this.stats.largestPatch, count);
    if (count > LIMIT) return this.refuse(res, 400, 'BadRequest', `User Assigned Identities Number '${count}' Assign exceed limit '${LIMIT}' in one request.`);
    if (m.pending)
      return this.refuse(res, 409, 'OperationNotAllowed', `Operation 'PATCH' is not allowed on ${m.id} since an update (${m.pending.op}) is in progress.`);
    if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== `"${m.version}"`)
      return this.refuse(res, 412, 'PreconditionFailed', `The condition specified by If-Match (${ifMatch}) does not match the resource's ETag "${m.version}".`);
    const known = new Set(this.identities().map((i) => i.resourceId.toLowerCase()));
    for (const [id, v] of Object.entries(changes)) {
      if (v !== null && !known.has(id.toLowerCase()))
        return this.refuse(res, 400, 'FailedIdentityOperation', `Identity (${id}) does not exist or the caller cannot assign it.`);
    }
    const types = identity.type.split(',').map((t: string) => t.trim());
    const next = new Map(m.userAssigned);
    if (!types.includes('UserAssigned')) next.clear();
    for (const [id, v] of Object.entries(changes)) {
      if (v === null) next.delete(id.toLowerCase());
      else if (!next.has(id.toLowerCase())) next.set(id.toLowerCase(), id);
    }
    const systemAssigned = types.includes('SystemAssigned');
    const opId = `op-${this.nextOp++}`;
    const operation: Operation = { status: 'InProgress' };
    this.operations.set(opId, operation);
    m.version++;
    m.pending = {
      op: opId,
      done: new Promise<void>((resolve) =>
        setTimeout(() => {
          m.userAssigned = next;
          m.systemAssigned = systemAssigned;
          m.version++;
          m.pending = undefined;
          operation.status = 'Succeeded';
          resolve();
        }, this.operationMs),
      ),
    };
    reply(res, 200, this.view(m), {
      'azure-asyncoperation': `${base}/subscriptions/${m.id.split('/')[2]}/providers/Microsoft.Compute/locations/westeurope/operations/${opId}?api-version=${apiVersion}`,
    });
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
  });
}
