// ARM's compute API for standard mode: read a scale set's or VM's identities (with its ETag) and PATCH them,
// following `Azure-AsyncOperation` until the update has finished. Failures come back as ArmError, saying whether
// to retry and when (429 Retry-After, 409 another update running, 412 someone changed it: re-read, 5xx).

import { Agent } from 'node:https';
import { jsonObject, retryAfterSeconds, sendRequest, type RawReply } from '../common/http-request.ts';
import { errnoSuffix } from '../common/http-error.ts';
import type { ArmTarget } from './arm-target.ts';
import type { IdentityPatch, TargetState } from './plan.ts';

/** The compute API version podid speaks (identity on VMSS and VM, ETags and If-Match). */
export const COMPUTE_API_VERSION = '2024-07-01';

export type ArmErrorKind = 'throttled' | 'conflict' | 'stale' | 'transient' | 'permanent';

export class ArmError extends Error {
  readonly kind: ArmErrorKind;
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds?: number;
  constructor(kind: ArmErrorKind, status: number, code: string, message: string, opts: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export interface ArmRead {
  state: TargetState;
  etag?: string;
}

export interface ArmClient {
  read(target: ArmTarget): Promise<ArmRead>;
  /** PATCHes and waits for the operation to finish; `etag` makes it conditional (If-Match). */
  patch(target: ArmTarget, body: IdentityPatch, etag?: string): Promise<void>;
}

export interface ArmClientSettings {
  /** e.g. https://management.azure.com */
  url: string;
  /** A bearer token for ARM (the controller's credential; see credentials.ts). */
  token(): Promise<string>;
  extraCaPem?: string;
  timeoutMs?: number;
  /** Poll interval of async operations when ARM gives no Retry-After. */
  pollMs?: number;
  /** Give up on an operation after this long. */
  operationTimeoutMs?: number;
}

/** An ARM error reply → ArmError (ARM's code and message kept: they name the resource, never a secret). */
export function armError(reply: RawReply, what: string): ArmError {
  const e = jsonObject(reply.text).error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : `HTTP${reply.status}`;
  const message = `${what}: ARM answered ${reply.status} ${code}${typeof e?.message === 'string' ? `: ${e.message}` : ''}`;
  const retryAfter = retryAfterSeconds(reply.headers);
  const kind: ArmErrorKind =
    reply.status === 429 ? 'throttled' : reply.status === 409 ? 'conflict' : reply.status === 412 ? 'stale' : reply.status >= 500 ? 'transient' : 'permanent';
  return new ArmError(kind, reply.status, code, message, { retryAfterSeconds: retryAfter });
}

/** The identities of a scale set or VM as ARM returns it. */
export function parseIdentity(body: Record<string, unknown>): TargetState {
  const identity = (body.identity ?? {}) as { type?: unknown; userAssignedIdentities?: unknown };
  const type = typeof identity.type === 'string' ? identity.type : 'None';
  const user = identity.userAssignedIdentities && typeof identity.userAssignedIdentities === 'object' ? Object.keys(identity.userAssignedIdentities) : [];
  return { userAssigned: user, systemAssigned: /(^|,)\s*SystemAssigned\s*(,|$)/i.test(type) };
}

export function armClient(s: ArmClientSettings): ArmClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 32, ...(s.extraCaPem ? { ca: s.extraCaPem } : {}) });
  const timeoutMs = s.timeoutMs ?? 30_000;
  async function call(method: string, url: URL, what: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawReply> {
    const auth = `Bearer ${await s.token()}`;
    try {
      return await sendRequest(url, {
        method,
        agent,
        timeoutMs,
        headers: { authorization: auth, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ArmError('transient', 0, 'Unreachable', `${what}: ARM at ${s.url} is unreachable${errnoSuffix(err)}`, { cause: err });
    }
  }
  const resourceUrl = (t: ArmTarget) => {
    const u = new URL(`${s.url.replace(/\/+$/, '')}${t.id}`);
    u.searchParams.set('api-version', COMPUTE_API_VERSION);
    return u;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function waitFor(operation: string, what: string): Promise<void> {
    const deadline = Date.now() + (s.operationTimeoutMs ?? 10 * 60_000);
    let wait = s.pollMs ?? 2000;
    for (;;) {
      await sleep(wait);
      const reply = await call('GET', new URL(operation), what);
      if (reply.status !== 200) throw armError(reply, `${what} (operation status)`);
      const body = jsonObject(reply.text);
      const status = String(body.status ?? '');
      if (/^succeeded$/i.test(status)) return;
      if (/^(failed|canceled)$/i.test(status)) {
        const e = (body.error ?? {}) as { code?: string; message?: string };
        throw new ArmError('transient', 200, e.code ?? status, `${what}: the update ${status.toLowerCase()}${e.message ? `: ${e.message}` : ''}`);
      }
      if (Date.now() > deadline)
        throw new ArmError('transient', 200, 'OperationTimeout', `${what}: the update is still ${status || 'running'}; will check again`);
      wait = (retryAfterSeconds(reply.headers) ?? 0) * 1000 || (s.pollMs ?? 2000);
    }
  }

  return {
    async read(t) {
      const what = `GET ${t.id}`;
      const reply = await call('GET', resourceUrl(t), what);
      if (reply.status !== 200) throw armError(reply, what);
      const body = jsonObject(reply.text);
      return { state: parseIdentity(body), etag: typeof body.etag === 'string' ? body.etag : undefined };
    },
    async patch(t, body, etag) {
      const what = `PATCH ${t.id}`;
      const reply = await call('PATCH', resourceUrl(t), what, body, etag ? { 'if-match': etag } : {});
      if (reply.status !== 200 && reply.status !== 201 && reply.status !== 202) throw armError(reply, what);
      const op = reply.headers['azure-asyncoperation'];
      const operation = Array.isArray(op) ? op[0] : op;
      if (operation) await waitFor(operation, what);
    },
  };
}
