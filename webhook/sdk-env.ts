// Which environment variables send unmodified Azure SDKs to the sidecar. A flavour (the --env-flavour
// value) is a list of parts; a part is a set of variables that selects one managed-identity source in the
// SDKs, plus the variables whose presence means it must not be added (sdk-env-parts.ts). A new flavour is
// one line in FLAVOURS; a new part is a new file and that line.
//
// For every part the rule is the same: podid never overrides a variable the container sets. If the
// container sets none of the part's variables or conflicts, the part is added; if it sets exactly the
// part's variables with podid's values (an earlier admission), nothing changes; otherwise the part is
// left out with a warning.

import type { EnvVar } from './pod.ts';
import { appServicePart, imdsHostPart, type EnvPart, type SidecarEndpoint } from './sdk-env-parts.ts';

const FLAVOURS = {
  imds: [imdsHostPart],
  appservice: [appServicePart],
  both: [imdsHostPart, appServicePart],
} as const satisfies Record<string, readonly EnvPart[]>;

/** Which variables send SDKs to the sidecar: IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST`), App Service, or both. */
export type EnvFlavour = keyof typeof FLAVOURS;
export const ENV_FLAVOURS = Object.keys(FLAVOURS) as EnvFlavour[];

export interface SidecarAddress extends SidecarEndpoint {
  flavour: EnvFlavour;
}

export interface SdkEnvPlan {
  add: EnvVar[];
  warnings: string[];
}

/** `existing` maps each variable the container sets to its literal value (undefined for valueFrom). */
export function planSdkEnv(containerName: string, existing: ReadonlyMap<string, string | undefined>, addr: SidecarAddress): SdkEnvPlan {
  const plan: SdkEnvPlan = { add: [], warnings: [] };
  for (const part of FLAVOURS[addr.flavour]) {
    const vars = part.vars(addr);
    const present = [...new Set([...vars.map((v) => v.name), ...part.conflicts])].filter((name) => existing.has(name));
    const ours = present.length === vars.length && vars.every((v) => existing.get(v.name) === v.value);
    if (present.length === 0) plan.add.push(...vars);
    else if (!ours) plan.warnings.push(part.warning(containerName, present));
  }
  return plan;
}
