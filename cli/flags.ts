// Declarative, typed flags. Each flag names its environment variable, its default and its type; the type's
// parser turns text into the value the command receives, naming the flag (or variable) in any error. The
// same table prints `--help` and is checked against docs/configuration.md.

import { parseBytes, parseDurationMs } from '../common/duration.ts';
import { parseListen, parsePort, type ListenAddress } from '../common/listen.ts';

/** How a flag's text becomes its value. Boolean types take no value on the command line. */
export interface FlagType<T> {
  /** Shown in `--help` after the flag name (`DURATION`, `N`…); undefined for booleans. */
  readonly placeholder?: string;
  parse(text: string, what: string): T;
}

export interface FlagSpec<T = unknown> {
  env: string;
  help: string;
  type: FlagType<T>;
  /** Text parsed like a given value; flags with neither default nor `required` are undefined when unset. */
  default?: string;
  required?: boolean;
  /** A one-letter alias (`-n` for --namespace, as kubectl has it). */
  short?: string;
}

/** A command's flags by name (`max-tokens` → its spec), in help order. */
export type FlagTable = Record<string, FlagSpec<any>>;
export type FlagValues<F extends FlagTable> = { [K in keyof F]: F[K] extends FlagSpec<infer T> ? T : never };

export interface Command<F extends FlagTable = FlagTable> {
  name: string;
  summary: string;
  /** Paragraphs --help prints after the summary (what the command prints, its exit codes). */
  details?: string;
  flags: F;
  /** The flag a leading bare argument sets (`podid explain pod NS/NAME` = `--pod NS/NAME`). */
  positional?: keyof F & string;
  run(values: FlagValues<F>): Promise<number>;
}

/** Lets a command's flag table type its `run` values without repeating it. */
export const defineCommand = <F extends FlagTable>(c: Command<F>): Command<F> => c;

export class UsageError extends Error {}

type Base = { env: string; help: string; short?: string };

/** A flag of `type`; with a default or `required: true` its value is always set. */
export function flag<T>(type: FlagType<T>, o: Base & ({ default: string } | { required: true })): FlagSpec<T>;
export function flag<T>(type: FlagType<T>, o: Base): FlagSpec<T | undefined>;
export function flag<T>(type: FlagType<T>, o: Base & { default?: string; required?: boolean }): FlagSpec<T | undefined> {
  return { ...o, type };
}

/** A boolean flag: `--x`, `--x=false`, or its variable set to true/false/1/0/yes/no/on/off. Default false. */
export const switchFlag = (o: Base & { default?: 'true' | 'false' }): FlagSpec<boolean> => ({
  default: 'false',
  ...o,
  type: types.boolean,
});

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/** A flag type from its help placeholder and its parser (errors it throws become UsageErrors naming the flag). */
export const typeOf = <T>(placeholder: string | undefined, parse: (text: string, what: string) => T): FlagType<T> => ({ placeholder, parse });

export const types = {
  string: typeOf('TEXT', (t) => t),
  /** Empty text is no value. */
  optionalString: typeOf('TEXT', (t) => t || undefined),
  boolean: typeOf(undefined, (t, what) => {
    const v = t.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new UsageError(`${what}: "${t}" is not a boolean (true/false)`);
  }),
  /** Milliseconds, from `500ms`, `10s`, `1h30m` or a bare number of seconds. */
  duration: typeOf('DURATION', parseDurationMs),
  /** Seconds, from the same forms as `duration`. */
  seconds: typeOf('DURATION', (t, what) => parseDurationMs(t, what) / 1000),
  bytes: typeOf('SIZE', parseBytes),
  port: typeOf('PORT', parsePort),
  listen: typeOf<ListenAddress>('HOST:PORT', parseListen),
  int: (min: number, max = Number.MAX_SAFE_INTEGER) =>
    typeOf('N', (t, what) => {
      const n = /^-?\d+$/.test(t.trim()) ? Number(t) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        throw new UsageError(`${what}: "${t}" is not a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`}`);
      }
      return n;
    }),
  url: typeOf('URL', (t, what) => {
    if (!URL.canParse(t) || !/^https?:$/.test(new URL(t).protocol)) throw new UsageError(`${what}: "${t}" is not an http(s) URL`);
    return t.replace(/\/+$/, '');
  }),
  /** Comma-separated, blanks dropped. */
  list: typeOf('A,B', (t) =>
    t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
  oneOf: <V extends string>(values: readonly V[]) =>
    typeOf(values.join('|'), (t, what) => {
      if (!(values as readonly string[]).includes(t)) throw new UsageError(`${what}: "${t}" is not one of ${values.join(', ')}`);
      return t as V;
    }),
  /** Empty text is no value; anything else goes through `type`. */
  optional: <T>(type: FlagType<T>): FlagType<T | undefined> => typeOf(type.placeholder, (t, what) => (t === '' ? undefined : type.parse(t, what))),
};

/** Parses a flag's text; any error becomes a UsageError that starts with the flag (or variable) name. */
function parseValue<T>(spec: FlagSpec<T>, text: string, what: string): T {
  try {
    return spec.type.parse(text, what);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const message = (err as Error).message;
    throw new UsageError(message.startsWith(what) ? message : `${what}: ${message}`);
  }
}

/** argv beats the environment beats the default. Returns undefined when help was asked for. */
export function parseFlags<F extends FlagTable>(specs: F, argv: readonly string[], env: NodeJS.ProcessEnv): FlagValues<F> | undefined {
  const names = Object.keys(specs);
  const fromArgs = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return undefined;
    const alias = /^-([a-zA-Z])$/.exec(arg)?.[1];
    const long = alias ? Object.entries(specs).find(([, f]) => f.short === alias)?.[0] : undefined;
    if (alias && !long) throw new UsageError(`unknown flag ${arg}`);
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(long ? `--${long}` : arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}"`);
    const [, name, inline] = m as unknown as [string, string, string | undefined];
    const spec = specs[name];
    if (!spec) {
      const close = names.filter((n) => n.includes(name) || name.includes(n)).map((n) => `--${n}`);
      throw new UsageError(`unknown flag --${name}${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}`);
    }
    let value = inline;
    if (value === undefined && spec.type.placeholder === undefined) value = 'true';
    if (value === undefined) {
      const next = argv[i + 1];
      // A flag never takes the next flag as its value: `--a --b` is a missing value, not a = "--b".
      if (next === undefined || next.startsWith('--')) {
        throw new UsageError(`--${name} needs a value${next === undefined ? '' : ` (got the flag ${next}; write --${name}=${next} if that is the value)`}`);
      }
      value = next;
      i++;
    }
    fromArgs.set(name, value);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const envValue = env[spec.env];
    const given = fromArgs.get(name);
    if (given !== undefined) out[name] = parseValue(spec, given, `--${name}`);
    else if (envValue !== undefined && envValue !== '') out[name] = parseValue(spec, envValue, spec.env);
    else if (spec.default !== undefined) out[name] = parseValue(spec, spec.default, `--${name}`);
    else if (spec.required) throw new UsageError(`--${name} (or ${spec.env}) is required`);
    else out[name] = undefined;
  }
  return out as FlagValues<F>;
}

export function commandHelp(cmd: Command<any>): string {
  const rows = Object.entries(cmd.flags as FlagTable).map(([name, f]) => {
    const def = f.required ? ' (required)' : f.default !== undefined && f.default !== '' ? ` (default ${f.default})` : '';
    return `  ${f.short ? `-${f.short}, ` : ''}--${name}${f.type.placeholder ? ` ${f.type.placeholder}` : ''}\n      ${f.help}${def}\n      env: ${f.env}`;
  });
  const details = cmd.details ? `\n${cmd.details.trimEnd()}\n` : '';
  return `podid ${cmd.name}: ${cmd.summary}\n${details}\nFlags (each also settable by its environment variable; flags win):\n${rows.join('\n')}\n`;
}
