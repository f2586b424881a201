// The NET_RAW rule as users meet it. Default install (fix): a workload written without the drop is admitted
// with a warning and unchanged, and each pod it creates gets the drop. deploy/overlays/netraw-enforce: a bad
// workload is refused at `kubectl apply` with podid's message; kube-system is exempt; warn mode shows
// `Warning:` lines in kubectl.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultValidationConfig } from '../../webhook/validation-config.ts';
import { disagreementsWithTable } from './case-table.ts';
import { eventually, kube, kubeJson, kubectl } from './kube.ts';
import { installDeploy, startLoopbackPodid, type LoopbackPodid } from './podid-on-loopback.ts';

const cluster = inject('cluster');
const NS = 'e2e-validate';
let podid: LoopbackPodid;

const ENFORCE = 'deploy/overlays/netraw-enforce';
const enforce = { ...defaultValidationConfig, mode: 'enforce' as const };

const deployment = (name: string, securityContext?: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'web', image: 'example/web:1', ...(securityContext ? { securityContext } : {}) }] },
    },
  },
});

beforeAll(async () => {
  podid = await startLoopbackPodid(undefined, enforce);
  await installDeploy(cluster, podid, ENFORCE);
  await kube(cluster, ['create', 'namespace', NS]);
});

afterAll(async () => {
  await podid?.stop();
});

describe('validating webhook through a real apiserver (netraw-enforce overlay)', () => {
  it('refuses a Deployment without the drop at kubectl apply, naming the container and the fix', async () => {
    const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(deployment('web')));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admission webhook "netraw.validate.podid.io" denied the request');
    expect(r.stderr).toContain(
      `Deployment ${NS}/web denied by podid: container "web" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop (in spec.template)`,
    );
    expect((await kubectl(cluster, ['get', 'deployment', 'web', '-n', NS])).code).not.toBe(0);
  });

  it('accepts it with the drop', async () => {
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(deployment('web', { capabilities: { drop: ['NET_RAW'] } })));
  });

  it('exempts kube-system', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'cni-like', namespace: 'kube-system' },
      spec: { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] },
    };
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(pod));
  });

  it('agrees with the shared case table for every row, through the apiserver', async () => {
    const disagreements = await disagreementsWithTable(cluster, NS, (row, message) =>
      message.includes(row.reason) ? undefined : `message lacks "${row.reason}": ${message}`,
    );
    expect(disagreements).toEqual([]);
  });

  it('the default install (fix): the workload is admitted as written with a warning, each pod it creates drops NET_RAW', async () => {
    const fix = await startLoopbackPodid();
    try {
      await installDeploy(cluster, fix);
      const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(deployment('fixed')));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        'Warning: podid: container "web" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop (--netraw=fix adds it to each pod this creates)',
      );
      // The Deployment is stored as written: no drift for GitOps tools.
      const stored = await kubeJson(cluster, ['get', 'deployment', 'fixed', '-n', NS]);
      expect(stored.spec.template.spec.containers[0].securityContext).toBeUndefined();
      // Its ReplicaSet's pods (kube-controller-manager) are created with the drop.
      const pods = await eventually("the Deployment's pods", async () => {
        const list = await kubeJson(cluster, ['get', 'pods', '-n', NS, '-l', 'app=fixed']);
        return list.items.length ? list.items : undefined;
      });
      expect(pods[0].spec.containers[0].securityContext.capabilities.drop).toContain('NET_RAW');
      const privileged = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(deployment('still-bad', { privileged: true })));
      expect(privileged.code).not.toBe(0);
      expect(privileged.stderr).toContain('container "web" is privileged');
    } finally {
      await kubectl(cluster, ['delete', 'mutatingwebhookconfiguration', 'podid']);
      await installDeploy(cluster, podid, ENFORCE);
      await fix.stop();
    }
  });

  it('warn mode admits with Warning: lines in kubectl', async () => {
    const warn = await startLoopbackPodid(undefined, { ...defaultValidationConfig, mode: 'warn' });
    const config = await kubeJson(cluster, ['get', 'validatingwebhookconfiguration', 'podid']);
    const original = structuredClone(config.webhooks[0].clientConfig);
    config.webhooks[0].clientConfig = {
      url: `https://127.0.0.1:${warn.port}/validate`,
      caBundle: Buffer.from(warn.ca.certPem).toString('base64'),
    };
    delete config.metadata.resourceVersion;
    await kube(cluster, ['apply', '-f', '-'], JSON.stringify(config));
    try {
      const r = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(deployment('warned')));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('Warning: podid: container "web" does not drop NET_RAW: add "NET_RAW" (or "ALL") to securityContext.capabilities.drop');
      expect(r.stdout).toContain('deployment.apps/warned created');
    } finally {
      config.webhooks[0].clientConfig = original;
      await kube(cluster, ['apply', '-f', '-'], JSON.stringify(config));
      await warn.stop();
    }
    // Back in enforce mode: relabelling the pre-existing bad Deployment is allowed (with a warning), making it worse is not.
    const relabelled = await kubectl(cluster, ['label', 'deployment', 'warned', '-n', NS, 'tier=web']);
    expect(relabelled.code).toBe(0);
    expect(relabelled.stderr).toContain('Warning: podid: container "web" does not drop NET_RAW');
    const worse = await kubectl(cluster, [
      'patch',
      'deployment',
      'warned',
      '-n',
      NS,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/securityContext', value: { privileged: true } }]),
    ]);
    expect(worse.code).not.toBe(0);
    expect(worse.stderr).toContain('container "web" is privileged');
  });
});
