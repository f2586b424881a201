// Where the sidecar's tokens come from: NMI on the node (nmi-client.ts, aad-pod-identity's model) or Azure AD
// itself with the pod's federated token (federated-client.ts, workload identity's proxy). The server and its
// cache see only this.

import type { NmiTokenQuery } from '../tokens/nmi-contract.ts';
import type { Token } from '../tokens/wire.ts';

export interface TokenSource {
  token(req: NmiTokenQuery): Promise<Token>;
  /** True when the source can serve (NMI answers its health endpoint; the federated token file is there). */
  healthy(): Promise<boolean>;
  /** What /healthz says while not healthy. */
  readonly waitingFor: string;
}
