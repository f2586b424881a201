// A small JSON-over-HTTPS client for the demo and the benchmarks (tests use supertest).

import { Agent, request } from 'node:https';

export interface JsonReply {
  status: number;
  body: unknown;
}

export function httpsAgent(ca: string | Buffer, keepAlive = true, maxSockets = Infinity): Agent {
  return new Agent({ ca, keepAlive, maxSockets });
}

/** POSTs `payload` as JSON, or GETs when it is undefined. */
export function postJson(url: string, payload: unknown, agent: Agent): Promise<JsonReply> {
  const data = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
  const headers = data ? { 'content-type': 'application/json', 'content-length': data.length } : {};
  return new Promise((resolve, reject) => {
    const req = request(url, { method: data ? 'POST' : 'GET', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}
