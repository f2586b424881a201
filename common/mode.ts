// podid's two modes (--mode on the controller, NMI, the webhook and explain): managed, where identities are already on
// the node pools, and standard, where podid-controller assigns them through ARM as MIC did.

export type Mode = 'managed' | 'standard';
export const MODES: readonly Mode[] = ['managed', 'standard'];
