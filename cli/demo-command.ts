// `podid demo` (`npm start`): podid on loopback with a throwaway certificate, shown working on a sample pod.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fjp from 'fast-json-patch';
import { createLoopbackCerts } from '../certs/generate.ts';
import { httpsAgent, postJson } from '../common/https-json.ts';
import { createLogger } from '../common/log.ts';
import { defaultInjectionConfig } from '../webhook/injection-config.ts';
import type { Pod } from '../podspec/pod.ts';
import { defaultValidationConfig } from '../webhook/validation-config.ts';
import { DEFAULT_ADMISSION_LIMITS } from '../webhook/app.ts';
import { startWebhook } from '../webhook/server.ts';
import { admissionReviewFor, sampleLabeledPod } from './demo-samples.ts';
import { logLevelFlag } from './common-flags.ts';
import { defineCommand, flag, switchFlag, types } from './flags.ts';
import { untilSignal } from './signals.ts';

interface ReviewReply {
  response?: { allowed?: boolean; patch?: string; warnings?: string[] };
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'run podid locally on loopback (webhook, NMI, a sidecar, AAD and IMDS emulators) and show a sample pod mutated and served a token',
  flags: {
    listen: flag(types.listen, {
      env: 'PODID_DEMO_LISTEN',
      default: '127.0.0.1:8443',
      help: 'where the demo webhook listens (port 0 picks a free one)',
    }),
    once: switchFlag({ env: 'PODID_DEMO_ONCE', help: 'exit after showing the sample instead of serving until Ctrl-C' }),
    'log-level': logLevelFlag('warn', 'log level of the demo servers'),
  },
  async run(v) {
    const dir = await mkdtemp(join(tmpdir(), 'podid-demo-'));
    try {
      const { ca, serving } = createLoopbackCerts('podid demo CA');
      const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), review: join(dir, 'review.json') };
      await writeFile(files.ca, ca.certPem);
      await writeFile(files.cert, serving.certPem);
      await writeFile(files.key, serving.keyPem, { mode: 0o600 });

      const webhook = await startWebhook(
        {
          listen: v.listen,
          tls: { certFile: files.cert, keyFile: files.key },
          tlsReloadMs: 10_000,
          limits: DEFAULT_ADMISSION_LIMITS,
          injection: { ...defaultInjectionConfig, sidecarImage: 'podid:dev' },
          validation: defaultValidationConfig,
        },
        createLogger('webhook', v['log-level']),
      );
      const pod = sampleLabeledPod();
      const reviewBody = admissionReviewFor(pod);
      await writeFile(files.review, JSON.stringify(reviewBody, null, 2));
      const reply = await postJson(`${webhook.url}/mutate`, reviewBody, httpsAgent(ca.certPem, false));
      const response = (reply.body as ReviewReply).response;
      const patch = JSON.parse(Buffer.from(response?.patch ?? '', 'base64').toString('utf8') || '[]');
      const mutated = fjp.applyPatch(structuredClone(pod), patch, true, false).newDocument as Pod;

      const out = process.stdout;
      out.write(`podid webhook is serving ${webhook.url} (certificate from a throwaway CA in ${dir})\n\n`);
      out.write(`Sent it a pod labeled aadpodidbinding=${pod.metadata?.labels?.aadpodidbinding}; the apiserver would create this:\n\n`);
      out.write(`${JSON.stringify(mutated, null, 2)}\n\n`);
      out.write(
        `${patch.length} patch operations; the sidecar "${mutated.spec.initContainers?.[0]?.name}" starts first and app containers ask it for tokens.\n`,
      );
      for (const w of response?.warnings ?? []) out.write(`warning: ${w}\n`);

      const app = mutated.spec.containers[0]!;
      const injected = Object.fromEntries((app.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      const tokens = await (await import('./demo-tokens.ts')).runTokenDemo(dir, pod.metadata?.labels?.aadpodidbinding ?? '', injected);
      out.write(`\nNow the pod's side, on loopback:\n${tokens.lines.join('\n')}\n`);
      try {
        if (v.once) return 0;
        out.write(`\nTry it yourself (Ctrl-C stops the demo):\n`);
        out.write(`  curl --cacert ${files.ca} -H 'content-type: application/json' --data @${files.review} ${webhook.url}/mutate\n`);
        out.write(`  curl --cacert ${files.ca} ${webhook.url}/metrics | grep podid_admission\n`);
        out.write(`${tokens.tryLines.join('\n')}\n`);
        await untilSignal();
        return 0;
      } finally {
        await tokens.close();
        await webhook.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
