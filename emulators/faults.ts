// What an emulator can be told to do wrong: fail, throttle or delay its next answers.

import type { ServerResponse } from 'node:http';

type Fault = { kind: 'fail'; status: number; error: string } | { kind: 'throttle'; retryAfterSeconds: number };

export class Faults {
  private readonly queue: Fault[] = [];
  delayMs = 0;

  /** The next `times` token requests answer `status` with an error body. */
  fail(status: number, times = 1, error = 'temporarily_unavailable'): void {
    for (let i = 0; i < times; i++) this.queue.push({ kind: 'fail', status, error });
  }

  /** The next `times` token requests answer 429 with Retry-After. */
  throttle(retryAfterSeconds: number, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push({ kind: 'throttle', retryAfterSeconds });
  }

  reset(): void {
    this.queue.length = 0;
    this.delayMs = 0;
  }

  /** Waits the configured delay, then answers with the next fault if one is queued; true when it did. */
  async apply(res: ServerResponse): Promise<boolean> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const fault = this.queue.shift();
    if (!fault) return false;
    if (fault.kind === 'throttle') {
      reply(res, 429, { error: 'throttled', error_description: 'Too many requests' }, { 'retry-after': String(fault.retryAfterSeconds) });
    } else {
      reply(res, fault.status, { error: fault.error, error_description: `emulated failure (${fault.status})` });
    }
    return true;
  }
}

export function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
