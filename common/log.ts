// pino JSON logs for the webhook, NMI and the controller, in the one schema every podid process writes (the sidecar,
// which loads no npm package, writes the same lines itself: cli/sidecar-command.ts): `time` (ISO 8601), `level`
// (its name), `component`, `msg`, then the fields. Secrets are redacted by key wherever they appear, as a second
// line of defence: code never passes tokens, secrets or keys to the logger.

import { pino, type Logger } from 'pino';
import type { LogLevel } from './log-levels.ts';

export type { Logger };

export const REDACTED_KEYS = [
  'access_token',
  'accessToken',
  'token',
  'client_secret',
  'clientSecret',
  'client_assertion',
  'authorization',
  'key',
  'keyPem',
  'privateKey',
  'password',
  'patch',
  'object',
];

/**
 * Where podid's log calls nest objects. Redaction names these paths exactly: pino's wildcard paths (`*.token`) cost
 * ~76 µs per line against ~5 µs for fixed ones (measured with the admission line), a fifth of the webhook's CPU.
 */
export const REDACTED_CONTAINERS = ['err', 'cause', 'headers', 'body', 'details'];

export function createLogger(name: string, level: LogLevel | (string & {}) = 'info', destination?: pino.DestinationStream): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, ...REDACTED_CONTAINERS.map((c) => `${c}.${k}`)]);
  const options: pino.LoggerOptions = {
    level,
    redact: { paths, censor: '[redacted]' },
    base: { component: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
