// Parsing `host:port` listen addresses (`127.0.0.1:8443`, `[::1]:8443`, `:8443` for all interfaces).

export interface ListenAddress {
  /** undefined: every interface. */
  host?: string;
  port: number;
}

export function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`${what}: "${text}" is not a port number`);
  const port = Number(text);
  if (port > 65535) throw new Error(`${what}: ${port} is out of range (0-65535)`);
  return port;
}

export function parseListen(text: string, what = 'listen address'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`${what}: "${text}" is not host:port, [ipv6]:port or :port`);
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port: parsePort(m[3]!, what) };
}

/** A URL host part: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
