// policies/kyverno: the ClusterPolicy applied by the real Kyverno CLI (built from its Go module by
// test/cluster/build.sh) to every row of the shared case table, workloads through Kyverno's auto-generated
// pod-controller rules.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netRawCases } from '../netraw-cases.ts';
import { BIN } from '../cluster/control-plane.ts';

const POLICY = 'policies/kyverno/cluster-policy.yaml';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podid-kyverno-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Tally {
  pass: number;
  fail: number;
  error: number;
  skip: number;
  output: string;
}

async function apply(resource: unknown, name: string): Promise<Tally> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(resource));
  const output = await new Promise<string>((resolve) => {
    execFile(join(BIN, 'kyverno'), ['apply', POLICY, '--resource', file], { timeout: 60_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
  });
  const m = /pass: (\d+), fail: (\d+), warn: \d+, error: (\d+), skip: (\d+)/.exec(output);
  if (!m) throw new Error(`unexpected kyverno output:\n${output}`);
  return { pass: Number(m[1]), fail: Number(m[2]), error: Number(m[3]), skip: Number(m[4]), output };
}

describe('Kyverno ClusterPolicy (real Kyverno CLI)', () => {
  it.each(netRawCases.filter((r) => !r.apiserverRejects).map((r, i) => [r.name, r, i] as const))('%s', async (_name, row, i) => {
    const object = { ...row.object, metadata: { ...(row.object.metadata as object), name: `case-${i}`, namespace: row.namespace } };
    const t = await apply(object, `case-${i}`);
    expect(t.error, t.output).toBe(0);
    expect(t.fail === 0, t.output).toBe(row.allowed);
    if (!row.allowed) expect(t.output).toContain('must drop NET_RAW');
  });
});
