// The real node's addresses, one table: test/cluster/in-netns.sh puts NODE_IP on the namespace's veth and routes
// SERVICE_CIDR there (it reads the same values from PODID_NODE_IP and PODID_SERVICE_CIDR, which it exports).
export const NODE_IP = process.env.PODID_NODE_IP ?? '10.200.0.1';
export const SERVICE_CIDR = process.env.PODID_SERVICE_CIDR ?? '10.0.0.0/24';
/** The node's pods: kubenet's bridge (cni0) with host-local addresses from this range, its gateway the node. */
export const POD_CIDR = '10.244.0.0/24';
export const POD_GATEWAY = '10.244.0.1';
export const CLUSTER_CIDR = '10.244.0.0/16';
/** The metadata address: inside the suite's namespace only, where the IMDS emulator answers on it. */
export const IMDS_IP = '169.254.169.254';

/** Puts an address on the node namespace's loopback (the suite's own namespace: never the machine's), as a
 * cloud's link-local metadata service is reachable from a node. */
export async function addNodeAddress(ip: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  if (process.env.PODID_IN_NETNS !== '1') throw new Error(`refusing to add ${ip} outside the suite's network namespace`);
  const shown = execFileSync('ip', ['-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  if (!shown.includes(` ${ip}/`)) execFileSync('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
}
