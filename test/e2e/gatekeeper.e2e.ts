// policies/gatekeeper: the ConstraintTemplate's rego evaluated by a real OPA (built by test/cluster/build.sh)
// over the shared case table, with the inputs Gatekeeper gives it (input.review, input.parameters).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { netRawCases } from '../netraw-cases.ts';
import { BIN } from '../cluster/control-plane.ts';

const REGO = 'policies/gatekeeper/netraw.rego';

function violations(input: unknown): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(join(BIN, 'opa'), ['eval', '--format', 'json', '--stdin-input', '-d', REGO, 'data.podidnetraw.violation'], (err, stdout, stderr) => {
      if (err) return reject(new Error(`opa eval failed: ${stderr}`));
      const value = JSON.parse(stdout).result?.[0]?.expressions?.[0]?.value ?? [];
      resolve((value as { msg: string }[]).map((v) => v.msg).sort());
    });
    child.stdin!.end(JSON.stringify(input));
  });
}

const review = (row: (typeof netRawCases)[number], parameters: Record<string, unknown> = { exemptNamespaces: ['kube-system'] }) => ({
  review: { kind: row.kind, namespace: row.namespace, operation: 'CREATE', object: row.object },
  parameters,
});

describe('Gatekeeper ConstraintTemplate (rego, real OPA)', () => {
  it('embeds netraw.rego verbatim', () => {
    const yaml = readFileSync('policies/gatekeeper/constraint-template.yaml', 'utf8');
    const block = yaml.slice(yaml.indexOf('      rego: |\n') + '      rego: |\n'.length);
    const rego = block
      .split('\n')
      .map((l) => l.replace(/^ {10}/, ''))
      .join('\n')
      .trimEnd();
    expect(rego).toBe(readFileSync(REGO, 'utf8').trimEnd());
  });

  it.each(netRawCases)('$name', async (row) => {
    const found = await violations(review(row));
    expect(found.length === 0).toBe(row.allowed);
    if (!row.allowed && !row.apiserverRejects) {
      // podid's reason names the container the same way (kind "name"); the whole-object prefix is podid's own.
      const container = /(?:initContainer|ephemeralContainer|container) "[^"]+"/.exec(row.reason)?.[0];
      if (container) expect(found.join('\n')).toContain(container);
    }
  });

  it('honours exemptLabels', async () => {
    const row = netRawCases.find((r) => r.name === 'no securityContext')!;
    expect(await violations(review(row, { exemptLabels: { app: 'x' } }))).toEqual([]);
    expect(await violations(review(row, { exemptLabels: { app: 'cni' } }))).toHaveLength(1);
  });
});
