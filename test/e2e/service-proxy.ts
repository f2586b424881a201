// kube-proxy for one Service, in userspace mode (what kube-proxy itself once was): the Service's cluster IP is
// added to loopback in the suite's network namespace, and each connection to clusterIP:port is piped to a ready
// endpoint from the Service's EndpointSlices (kube-controller-manager's EndpointSlice controller writes them
// from pod readiness). The apiserver dials webhooks at the cluster IP (its default service resolver), so this
// is how it reaches podid's webhook.

import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ClusterInfo } from './global-setup.ts';
import { addLoopbackAddress } from './kubelet.ts';
import { api } from './kube.ts';

export interface ServiceProxy {
  clusterIP: string;
  connections: number;
  close(): Promise<void>;
}

export async function proxyService(cluster: ClusterInfo, namespace: string, name: string): Promise<ServiceProxy> {
  const svc = (await api(cluster, 'GET', `/api/v1/namespaces/${namespace}/services/${name}`)).body;
  const clusterIP: string = svc.spec.clusterIP;
  addLoopbackAddress(clusterIP);
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const state = {
    clusterIP,
    connections: 0,
    async close() {
      // The apiserver keeps connections alive: close them, or the servers never finish closing.
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
  for (const port of svc.spec.ports) {
    const server = createServer(async (client) => {
      state.connections++;
      track(client);
      client.pause();
      const slices = await api(
        cluster,
        'GET',
        `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${name}`,
      );
      const targets = (slices.body.items ?? []).flatMap((s: any) => {
        const p = (s.ports ?? []).find((x: any) => x.name === (port.name ?? ''));
        return p
          ? (s.endpoints ?? []).filter((e: any) => e.conditions?.ready).flatMap((e: any) => e.addresses.map((a: string) => ({ host: a, port: p.port })))
          : [];
      });
      const target = targets[Math.floor(Math.random() * targets.length)];
      if (!target) return void client.destroy();
      const upstream = connect(target.port, target.host);
      track(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    await new Promise<void>((r) => server.listen(port.port, clusterIP, r));
    servers.push(server);
  }
  return state;
}
