// JSON logs in the one schema every podid process writes, the sidecar included: `level` (its name), `time`
// (ISO 8601), `component`, `msg`, then the fields, one line each on stdout (the sidecar: stderr). Secrets are
// redacted by key, at the top and one level down in the objects named below, as a second line of defence: code
// never passes tokens, secrets or keys to the logger.
// No npm package: pino, which podid used before, cost 2.8 MiB of private memory in each server process for what
// these lines need (measured on Node 24: issue 25), and the sidecar could not load it.

import { LOG_LEVELS, type LogLevel } from './log-levels.ts';

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

/** Where podid's log calls nest objects: keys in these are redacted too. */
export const REDACTED_CONTAINERS = ['err', 'cause', 'headers', 'body', 'details'];

const REDACTED = '[redacted]';
const redactedKeys = new Set(REDACTED_KEYS);
const containers = new Set(REDACTED_CONTAINERS);

export type LogFields = Record<string, unknown>;
type Emit = (fieldsOrMsg: object | string, msg?: string) => void;

export interface Logger {
  readonly level: LogLevel;
  isLevelEnabled(level: LogLevel): boolean;
  fatal: Emit;
  error: Emit;
  warn: Emit;
  info: Emit;
  debug: Emit;
  trace: Emit;
}

/** Where lines go: anything with a write(string) (process.stdout by default; a test's stream). */
export interface LogDestination {
  write(line: string): unknown;
}

/** A value as it may appear in a line: errors as type and message, secrets by key replaced. */
function clean(key: string, value: unknown, nested: boolean): unknown {
  if (redactedKeys.has(key)) return REDACTED;
  if (value instanceof Error) return { type: value.name, message: value.message };
  if (!nested && containers.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const out: LogFields = {};
    for (const [k, v] of Object.entries(value)) out[k] = clean(k, v, true);
    return out;
  }
  return value;
}

/** One log line (with its newline). Pure: the logger adds the time. */
export function formatLogLine(level: LogLevel, time: Date, component: string, msg: string, fields: object = {}): string {
  const line: LogFields = { level, time: time.toISOString(), component, msg };
  for (const [k, v] of Object.entries(fields)) if (!(k in line)) line[k] = clean(k, v, false);
  return `${JSON.stringify(line)}\n`;
}

/** Lower is more severe; `silent` writes nothing. */
const rank = (level: LogLevel) => LOG_LEVELS.indexOf(level);

function emitter(component: string, level: LogLevel, threshold: number, destination: LogDestination): Emit {
  if (rank(level) > threshold) return function disabled() {};
  return function emit(fieldsOrMsg, msg) {
    const [fields, text] = typeof fieldsOrMsg === 'string' ? [undefined, fieldsOrMsg] : [fieldsOrMsg, msg ?? ''];
    destination.write(formatLogLine(level, new Date(), component, text, fields));
  };
}

export function createLogger(component: string, level: LogLevel | (string & {}) = 'info', destination: LogDestination = process.stdout): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`unknown log level ${JSON.stringify(level)}`);
  const threshold = level === 'silent' ? -1 : rank(level as LogLevel);
  const at = (l: LogLevel) => emitter(component, l, threshold, destination);
  return {
    level: level as LogLevel,
    isLevelEnabled: (l) => l !== 'silent' && rank(l) <= threshold,
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
  };
}
