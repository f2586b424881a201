// Which environment variables send unmodified Azure SDKs to the sidecar. A flavour (the --env-flavour
// value) is a list of parts; a part is a set of variables that selects one managed-identity source in the
// SDKs, plus the variables whose presence means it must not be added (sdk-env-parts.ts). A new flavour is
// one line in FLAVOURS; a new part is a new file and that line.
//
// For every part the rule is the same: podid never overrides a variable the container sets. If the
// container sets none of the part's variables or conflicts, the part is added; if it sets exactly the
// part's variables with podid's values (an earlier admission), nothing changes; otherwise the part is
// left out with a warning. A part that `requires` another is added only where that one is in place.

import type { EnvVar } from '../podspec/pod.ts';
import { appServicePart, imdsHostPart, msiEndpointPart, type EnvPart, type SidecarEndpoint } from './sdk-env-parts.ts';

const FLAVOURS = {
  imds: [imdsHostPart],
  appservice: [appServicePart],
  both: [imdsHostPart, appServicePart],
  all: [imdsHostPart, appServicePart, msiEndpointPart],
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
  const parts: readonly EnvPart[] = FLAVOURS[addr.flavour];
  // A variable another part of this flavour set with podid's value (an earlier admission) is no conflict.
  const podids = new Map(parts.flatMap((p) => p.vars(addr)).map((v) => [v.name, v.value]));
  const setByPodid = (name: string) => podids.has(name) && existing.get(name) === podids.get(name);
  const inPlace = new Set<EnvPart>();
  for (const part of parts) {
    if (part.requires && !inPlace.has(part.requires)) continue;
    const vars = part.vars(addr);
    const conflicts = part.conflicts.filter((name) => existing.has(name) && !setByPodid(name));
    const present = [...vars.map((v) => v.name).filter((name) => existing.has(name)), ...conflicts];
    const ours = conflicts.length === 0 && vars.every((v) => existing.has(v.name) && existing.get(v.name) === v.value);
    if (present.length === 0) plan.add.push(...vars);
    else if (!ours) {
      plan.warnings.push(part.warning(containerName, present));
      continue;
    }
    inPlace.add(part);
  }
  return plan;
}
