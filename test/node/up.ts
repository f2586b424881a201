// The e2e suite's control plane and real node, by hand, for debugging (npm run node:up): starts both inside
// test/cluster/in-netns.sh's namespaces, prints how to reach them, and stops everything on Ctrl-C or SIGTERM.
// Another shell joins the namespaces with the printed `nsenter` line (not `ip netns exec`: it remounts /sys).

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startControlPlane } from '../cluster/control-plane.ts';
import { IMAGES_ARCHIVE } from './images.ts';
import { NODE_IP } from './network.ts';
import { startNode } from './node.ts';

const cp = await startControlPlane({ controllerManager: true, nodeIP: NODE_IP });
const dir = await mkdtemp(join(tmpdir(), 'podid-node-'));
const node = await startNode({ ...cp, images: IMAGES_ARCHIVE, dir });
const env = join(dir, 'env.sh');
await writeFile(
  env,
  `export KUBECONFIG=${cp.kubeconfig}\nexport PATH=${BIN}:$PATH\nexport CONTAINERD_ADDRESS=${node.containerdSocket} CONTAINERD_NAMESPACE=k8s.io\n`,
);
console.log(`
node ${node.name} is up (logs: ${dir}/*.log, pods' logs: ${dir}/pod-logs). In another shell, as root:
  nsenter --target ${process.pid} --net --mount bash --rcfile ${env}
then: kubectl get pods -A -o wide; kubectl logs -n NS POD -c CONTAINER; ctr containers ls; iptables-save -t nat
Ctrl-C here stops the node and the control plane.`);

async function shutdown() {
  await node.stop();
  await cp.stop();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
setInterval(() => {}, 1 << 30);
