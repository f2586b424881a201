// podid's own Kubernetes API client for its long-running daemons: JSON requests, paginated lists and watches over
// one keep-alive HTTPS agent, with the credentials of the pod (in-cluster) or of a kubeconfig (token, token file or
// client certificate). NMI runs on every node and needs nothing more: @kubernetes/client-node costs ~80 MiB of
// resident memory just to load (measured on Node 24: 42 → 125 MiB), and that is on every node of every cluster.
// CLI commands keep client-node.

import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createRequire } from 'node:module';
import { IN_CLUSTER_DIR, kubeSource } from './kube-source.ts';

/** A non-2xx answer: the HTTP status, the Status reason and message (never the request body). */
export class KubeError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly retryAfterSeconds?: number;
  constructor(status: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'KubeError';
    this.status = status;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The status of a failed call: a KubeError's, else undefined (a socket error, a timeout). */
export const statusOf = (err: unknown): number | undefined => (err instanceof KubeError ? err.status : undefined);

export interface KubeRequest {
  body?: unknown;
  /** application/json by default; patches say which kind they are. */
  contentType?: 'application/json' | 'application/merge-patch+json' | 'application/json-patch+json' | 'application/strategic-merge-patch+json';
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: any };

export interface KubeClient {
  /** The API server's URL. */
  readonly server: string;
  request<T = any>(method: string, path: string, req?: KubeRequest): Promise<T>;
  /** Every item at `path`, in pages of `limit`; the list's resourceVersion to watch from. */
  list<T = unknown>(path: string, query?: KubeRequest['query'], limit?: number): Promise<{ items: T[]; resourceVersion: string }>;
  /** The same list a page at a time, so that a caller keeping a few fields never holds every object at once. */
  pages<T = unknown>(path: string, query?: KubeRequest['query'], limit?: number): AsyncGenerator<{ items: T[]; resourceVersion: string }>;
  /**
   * Streams the watch at `path` from `resourceVersion` to `onEvent` until the server ends it (its timeout) or
   * `signal` aborts; rejects when the stream fails.
   */
  watch(path: string, query: KubeRequest['query'], onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void>;
  close(): void;
}

export interface KubeCredentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** A bearer token, or a file re-read as it rotates (projected service-account tokens do, hourly). */
  token?: string;
  tokenFile?: string;
}

/** Credentials from the first of --kubeconfig, $KUBECONFIG, ~/.kube/config and the pod's service account (kube-source.ts). */
export function kubeCredentials(kubeconfigPath?: string, env: NodeJS.ProcessEnv = process.env): KubeCredentials {
  const source = kubeSource(kubeconfigPath, env);
  if (source.kind === 'file') return fromKubeconfig(source.path);
  const { host } = source;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(`${IN_CLUSTER_DIR}/ca.crt`),
    tokenFile: `${IN_CLUSTER_DIR}/token`,
  };
}

type Named<T> = { name: string } & T;
type KubeconfigFile = {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
};

/** js-yaml, loaded only to read a kubeconfig: pods use their service account, and the parser costs 1.4 MiB. */
let yamlModule: typeof import('js-yaml') | undefined;
const yaml = () => (yamlModule ??= createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml'));

function fromKubeconfig(path: string): KubeCredentials {
  const file = yaml().load(readFileSync(path, 'utf8')) as KubeconfigFile;
  const context = file.contexts?.find((c) => c.name === file['current-context'])?.context;
  if (!context) throw new Error(`kubeconfig ${path}: current-context ${JSON.stringify(file['current-context'] ?? null)} is not among its contexts`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${path}: cluster ${JSON.stringify(context.cluster ?? null)} has no server`);
  const user = file.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec || user['auth-provider']) {
    throw new Error(
      `kubeconfig ${path}: user ${JSON.stringify(context.user)} signs in with a plugin, which podid's daemons do not run; use a token, a token file or a client certificate`,
    );
  }
  const dataOrFile = (data: unknown, file: unknown) =>
    typeof data === 'string' ? Buffer.from(data, 'base64') : typeof file === 'string' ? readFileSync(file) : undefined;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ca: dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    cert: dataOrFile(user['client-certificate-data'], user['client-certificate']),
    key: dataOrFile(user['client-key-data'], user['client-key']),
    token: typeof user.token === 'string' ? user.token : undefined,
    tokenFile: typeof user.tokenFile === 'string' ? user.tokenFile : undefined,
  };
}

const TOKEN_FILE_REREAD_MS = 60_000;

export function kubeClient(creds: KubeCredentials): KubeClient {
  const agent = new Agent({
    keepAlive: true,
    // Each watch holds a connection for its lifetime (NMI 5, the controller 8); the rest serve requests.
    maxSockets: 32,
    ca: creds.ca,
    cert: creds.cert,
    key: creds.key,
    rejectUnauthorized: !creds.insecureSkipTlsVerify,
    servername: creds.tlsServerName,
  });
  let token = creds.token;
  let tokenReadAt = 0;
  const bearer = (): Record<string, string> => {
    if (creds.tokenFile && Date.now() - tokenReadAt > TOKEN_FILE_REREAD_MS) {
      token = readFileSync(creds.tokenFile, 'utf8').trim();
      tokenReadAt = Date.now();
    }
    return token ? { authorization: `Bearer ${token}` } : {};
  };
  const url = (path: string, query?: KubeRequest['query']) => {
    const u = new URL(creds.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  };

  function send(method: string, path: string, req: KubeRequest, onResponse: (res: import('node:http').IncomingMessage) => void, signal?: AbortSignal) {
    const data = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { accept: 'application/json', ...bearer() };
    if (data) Object.assign(headers, { 'content-type': req.contentType ?? 'application/json', 'content-length': String(data.length) });
    const r = request(url(path, req.query), { method, agent, headers, signal, timeout: req.timeoutMs }, onResponse);
    r.on('timeout', () => r.destroy(Object.assign(new Error(`the API server did not answer ${method} ${path} in time`), { code: 'ETIMEDOUT' })));
    return { r, data };
  }

  const failure = (status: number, text: string, retryAfter: string | string[] | undefined, method: string, path: string) => {
    let reason = '';
    let message = `${method} ${path}: HTTP ${status}`;
    try {
      const s = JSON.parse(text) as { reason?: string; message?: string };
      reason = s.reason ?? '';
      if (s.message) message = `${message}: ${s.message}`;
    } catch {
      // not a Status: keep the status line only
    }
    const after = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    return new KubeError(status, reason, message, Number.isFinite(after) && after >= 0 ? after : undefined);
  };

  const client: KubeClient = {
    server: creds.server,
    request<T>(method: string, path: string, req: KubeRequest = {}) {
      return new Promise<T>((resolve, reject) => {
        const { r, data } = send(method, path, { timeoutMs: 30_000, ...req }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) return reject(failure(status, text, res.headers['retry-after'], method, path));
            try {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } catch {
              reject(new KubeError(status, '', `${method} ${path}: the answer is not JSON`));
            }
          });
        });
        r.on('error', reject);
        r.end(data);
      });
    },
    async *pages<T>(path: string, query: KubeRequest['query'] = {}, limit = 500) {
      let cont: string | undefined;
      do {
        const page = await client.request<{ items?: T[]; metadata?: { continue?: string; resourceVersion?: string } }>('GET', path, {
          query: { ...query, limit, continue: cont },
        });
        cont = page.metadata?.continue || undefined;
        yield { items: page.items ?? [], resourceVersion: page.metadata?.resourceVersion ?? '' };
      } while (cont);
    },
    async list<T>(path: string, query: KubeRequest['query'] = {}, limit = 500) {
      const items: T[] = [];
      let resourceVersion = '';
      for await (const page of client.pages<T>(path, query, limit)) {
        for (const item of page.items) items.push(item);
        resourceVersion = page.resourceVersion || resourceVersion;
      }
      return { items, resourceVersion };
    },
    watch(path, query, onEvent, signal) {
      return new Promise<void>((resolve, reject) => {
        const { r } = send(
          'GET',
          path,
          { query: { ...query, watch: 1, allowWatchBookmarks: true } },
          (res) => {
            const status = res.statusCode ?? 0;
            if (status !== 200) {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => reject(failure(status, Buffer.concat(chunks).toString('utf8'), res.headers['retry-after'], 'GET', path)));
              return;
            }
            let rest = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              const lines = (rest + chunk).split('\n');
              rest = lines.pop()!;
              for (const line of lines) {
                if (!line.trim()) continue;
                try {
                  onEvent(JSON.parse(line) as WatchEvent);
                } catch (err) {
                  r.destroy(err as Error);
                  return;
                }
              }
            });
            res.on('end', () => resolve());
            res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
          },
          signal,
        );
        r.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
        r.end();
      });
    },
    close: () => agent.destroy(),
  };
  return client;
}
