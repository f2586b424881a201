// pino JSON logs for the webhook and NMI. Secrets are redacted by key wherever they appear,
// as a second line of defence: code never passes tokens, secrets or keys to the logger.

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

export function createLogger(name: string, level: LogLevel | (string & {}) = 'info', destination?: pino.DestinationStream): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  const options = { name, level, redact: { paths, censor: '[redacted]' }, base: { component: name } };
  return destination ? pino(options, destination) : pino(options);
}
