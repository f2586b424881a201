// Declarative flags: each has an environment variable and a default, and the same table
// prints `--help` and is checked against the README's configuration reference.

export interface FlagSpec {
  name: string;
  env: string;
  help: string;
  default?: string;
  boolean?: boolean;
  required?: boolean;
}

export interface Command {
  name: string;
  summary: string;
  flags: readonly FlagSpec[];
  run(values: FlagValues): Promise<number>;
}

export type FlagValues = Record<string, string>;

export class UsageError extends Error {}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

function booleanValue(flag: FlagSpec, raw: string, from: string): string {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return 'true';
  if (FALSE.has(v)) return 'false';
  throw new UsageError(`${from}: "${raw}" is not a boolean (true/false)`);
}

/** argv beats the environment beats the default. Returns undefined when help was asked for. */
export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[], env: NodeJS.ProcessEnv): FlagValues | undefined {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const fromArgs = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return undefined;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}"`);
    const spec = byName.get(m[1]!);
    if (!spec) {
      const close = specs.filter((s) => s.name.includes(m[1]!) || m[1]!.includes(s.name)).map((s) => `--${s.name}`);
      throw new UsageError(`unknown flag --${m[1]}${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}`);
    }
    let value = m[2];
    if (value === undefined) {
      if (spec.boolean) value = 'true';
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new UsageError(`--${spec.name} needs a value`);
    }
    fromArgs.set(spec.name, spec.boolean ? booleanValue(spec, value, `--${spec.name}`) : value);
  }
  const out: FlagValues = {};
  for (const spec of specs) {
    const envValue = env[spec.env];
    let value = fromArgs.get(spec.name);
    if (value === undefined && envValue !== undefined && envValue !== '') {
      value = spec.boolean ? booleanValue(spec, envValue, spec.env) : envValue;
    }
    value ??= spec.default ?? (spec.boolean ? 'false' : undefined);
    if (value === undefined) {
      if (spec.required) throw new UsageError(`--${spec.name} (or ${spec.env}) is required`);
      continue;
    }
    out[spec.name] = value;
  }
  return out;
}

export function commandHelp(cmd: Command): string {
  const rows = cmd.flags.map((f) => {
    const def = f.required ? ' (required)' : f.default !== undefined && f.default !== '' ? ` (default ${f.default})` : '';
    return `  --${f.name}${f.boolean ? '' : ' VALUE'}\n      ${f.help}${def}\n      env: ${f.env}`;
  });
  return `podid ${cmd.name}: ${cmd.summary}\n\nFlags (each also settable by its environment variable; flags win):\n${rows.join('\n')}\n`;
}

/** Runs a flag value through a converter, naming the flag in any error. */
export function convert<T>(values: FlagValues, name: string, fn: (text: string, what: string) => T): T {
  const text = values[name];
  if (text === undefined) throw new UsageError(`--${name} is required`);
  try {
    return fn(text, `--${name}`);
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
}
