// MSAL's network module over node:https with NMI's own agent: keep-alive to Azure AD, an optional extra
// CA (sovereign or test authorities), and a timeout on every call.

import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent } from 'node:https';
import { jsonObject, sendRequest } from '../common/http-request.ts';

export function msalNetwork(opts: { extraCaPem?: string; timeoutMs?: number } = {}): INetworkModule {
  const agent = new Agent({ keepAlive: true, maxSockets: 32, ...(opts.extraCaPem ? { ca: opts.extraCaPem } : {}) });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  async function send<T>(method: string, url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const reply = await sendRequest(new URL(url), {
      method,
      headers: options?.headers,
      body: options?.body,
      timeoutMs: timeout ?? timeoutMs,
      agent,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: reply.status, headers, body: jsonObject(reply.text) as T };
  }
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => send<T>('GET', url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}
