// Which ARM resource a Kubernetes node is: its `spec.providerID`, as the Azure cloud provider writes it, names
// either a scale-set instance (user-assigned identities are set on the scale set, and every instance gets them)
// or a standalone VM. Pure.

export type ArmTargetKind = 'vmss' | 'vm';

export interface ArmTarget {
  kind: ArmTargetKind;
  /** The ARM resource id of the scale set or VM, as the provider ID spells it. */
  id: string;
  /** `id` lower-cased: ARM ids are case-insensitive, and the cloud provider's casing differs between versions. */
  key: string;
}

// azure:///subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachineScaleSets/<ss>/virtualMachines/<n>
// azure:///subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<vm>
const PROVIDER_ID =
  /^azure:\/\/(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/(virtualMachineScaleSets|virtualMachines)\/[^/]+)(\/virtualMachines\/[^/]+)?$/i;

/** The scale set or VM behind a node's provider ID; an error message when it is not an Azure VM or instance. */
export function armTargetOf(providerID: string | undefined): ArmTarget | { error: string } {
  if (!providerID) return { error: 'the node has no spec.providerID (is the Azure cloud provider running?)' };
  const m = PROVIDER_ID.exec(providerID);
  if (!m) return { error: `spec.providerID ${JSON.stringify(providerID)} is not an Azure VM or scale-set instance` };
  const isScaleSet = m[2]!.toLowerCase() === 'virtualmachinescalesets';
  if (isScaleSet !== (m[3] !== undefined)) return { error: `spec.providerID ${JSON.stringify(providerID)} is not an Azure VM or scale-set instance` };
  return { kind: isScaleSet ? 'vmss' : 'vm', id: m[1]!, key: m[1]!.toLowerCase() };
}
