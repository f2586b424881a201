// Applies the interception rules with the iptables command: idempotent (checks before it adds, rewrites
// the chain only when it differs), reconciled periodically, removed on shutdown.

import { execFile } from 'node:child_process';
import type { Logger } from '../common/log.ts';
import { chainRules, jumpRule, parseChainListing, ruleText, type InterceptConfig } from './iptables-rules.ts';

export type Run = (args: string[]) => Promise<{ ok: boolean; stdout: string; stderr: string }>;

/** Runs `iptables -w -t nat <args>`. */
export function iptablesRunner(binary = 'iptables'): Run {
  return (args) =>
    new Promise((resolve) => {
      execFile(binary, ['-w', '5', '-t', 'nat', ...args], (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr }));
    });
}

export interface ReconcileResult {
  changed: boolean;
}

export async function ensureInterception(run: Run, c: InterceptConfig): Promise<ReconcileResult> {
  let changed = false;
  const listing = await run(['-S', c.chain]);
  if (!listing.ok) {
    const created = await run(['-N', c.chain]);
    if (!created.ok) throw new Error(`iptables -N ${c.chain} failed: ${created.stderr.trim()}`);
    changed = true;
  }
  const want = chainRules(c).map(ruleText);
  const have = listing.ok ? parseChainListing(listing.stdout, c.chain) : [];
  if (want.join('\n') !== have.join('\n')) {
    if (have.length) await run(['-F', c.chain]);
    for (const rule of chainRules(c)) {
      const r = await run(rule);
      if (!r.ok) throw new Error(`iptables ${ruleText(rule)} failed: ${r.stderr.trim()}`);
    }
    changed = true;
  }
  if (!(await run(['-C', ...jumpRule(c)])).ok) {
    const r = await run(['-I', ...jumpRule(c).slice(0, 1), '1', ...jumpRule(c).slice(1)]);
    if (!r.ok) throw new Error(`iptables -I PREROUTING -j ${c.chain} failed: ${r.stderr.trim()}`);
    changed = true;
  }
  return { changed };
}

export async function removeInterception(run: Run, c: InterceptConfig): Promise<void> {
  for (let i = 0; i < 10 && (await run(['-D', ...jumpRule(c)])).ok; i++);
  await run(['-F', c.chain]);
  await run(['-X', c.chain]);
}

/** Keeps the rules in place every `intervalMs`; the returned stop() removes them. */
export async function startInterception(
  run: Run,
  c: InterceptConfig,
  intervalMs: number,
  log: Logger,
  restored?: (result: 'restored' | 'failed') => void,
): Promise<() => Promise<void>> {
  await ensureInterception(run, c);
  log.info({ chain: c.chain, metadata: `${c.metadataIP}:${c.metadataPort}`, to: `${c.nmiIP}:${c.nmiPort}` }, 'metadata interception in place');
  const timer = setInterval(() => {
    ensureInterception(run, c).then(
      (r) => {
        if (!r.changed) return;
        restored?.('restored');
        log.warn({ chain: c.chain }, 'interception rules were missing or changed; restored');
      },
      (err: Error) => {
        restored?.('failed');
        log.error({ err: err.message }, 'cannot reconcile interception rules');
      },
    );
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await removeInterception(run, c);
    log.info({ chain: c.chain }, 'metadata interception removed');
  };
}
