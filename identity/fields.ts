// Reading loosely-typed Kubernetes JSON the way aad-pod-identity's Go types do:
// spec keys match case-insensitively (`clientID`, `ClientID` and `clientid` are one field),
// and every problem is reported with the path of the field it concerns.

export interface FieldError {
  field: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects field errors while reading one object. */
export class FieldReader {
  readonly errors: FieldError[] = [];
  private readonly obj: Record<string, unknown>;
  private readonly path: string;

  constructor(obj: Record<string, unknown>, path: string) {
    this.obj = obj;
    this.path = path;
  }

  fail(field: string, message: string): void {
    this.errors.push({ field: this.at(field), message });
  }

  at(field: string): string {
    return this.path ? `${this.path}.${field}` : field;
  }

  /** The value of `field`, matching keys case-insensitively; spellings that disagree are an error. */
  raw(field: string): unknown {
    const wanted = field.toLowerCase();
    const hits = Object.keys(this.obj).filter((k) => k.toLowerCase() === wanted && this.obj[k] !== undefined);
    if (hits.length === 0) return undefined;
    const first = this.obj[hits[0]!];
    for (const other of hits.slice(1)) {
      if (JSON.stringify(this.obj[other]) !== JSON.stringify(first)) {
        this.fail(field, `set twice with different values (as ${hits.join(' and ')})`);
      }
    }
    return first;
  }

  optionalString(field: string): string | undefined {
    const v = this.raw(field);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      this.fail(field, `must be a string, got ${typeof v}`);
      return undefined;
    }
    return v.trim();
  }

  requiredString(field: string, why = 'is required'): string {
    const v = this.optionalString(field);
    if (v === undefined && !this.errors.some((e) => e.field === this.at(field))) this.fail(field, why);
    return v ?? '';
  }

  record(field: string): Record<string, unknown> | undefined {
    const v = this.raw(field);
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) {
      this.fail(field, 'must be an object');
      return undefined;
    }
    return v;
  }

  stringMap(field: string): Record<string, string> {
    const v = this.record(field);
    const out: Record<string, string> = {};
    if (!v) return out;
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') this.fail(`${field}.${k}`, 'must be a string');
      else out[k] = val;
    }
    return out;
  }
}

export function formatFieldErrors(kind: string, name: string, errors: readonly FieldError[]): string {
  return `${kind} ${name} is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
}
