import { describe, expect, it } from 'vitest';
import { parseCloudConfig } from './cloud-config.ts';

// The fields AKS writes to /etc/kubernetes/azure.json.
const aks = {
  cloud: 'AzurePublicCloud',
  tenantId: 't',
  subscriptionId: 's',
  resourceGroup: 'MC_rg_cluster_westeurope',
  vmType: 'vmss',
  useManagedIdentityExtension: true,
  userAssignedIdentityID: 'kubelet-client-id',
  aadClientId: 'msi',
  aadClientSecret: 'msi',
};

describe('parseCloudConfig', () => {
  it('AKS with a kubelet identity: the managed identity by client id', () => {
    const c = parseCloudConfig(JSON.stringify(aks));
    expect(c.credential).toEqual({ kind: 'managed-identity', clientId: 'kubelet-client-id' });
    expect(c).toMatchObject({ armUrl: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', vmType: 'vmss' });
  });

  it('a service principal cluster (aks-engine, older AKS)', () => {
    const c = parseCloudConfig(
      JSON.stringify({
        ...aks,
        useManagedIdentityExtension: false,
        userAssignedIdentityID: '',
        aadClientId: 'app',
        aadClientSecret: 'hunter2',
        cloud: 'AzureChinaCloud',
      }),
    );
    expect(c.credential).toEqual({ kind: 'client-secret', clientId: 'app', clientSecret: 'hunter2' });
    expect(c.armUrl).toBe('https://management.chinacloudapi.cn');
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['no tenant', JSON.stringify({ ...aks, tenantId: '' }), /tenantId is missing/],
    ['no credential', JSON.stringify({ tenantId: 't' }), /no credential for ARM/],
    ['a certificate', JSON.stringify({ tenantId: 't', aadClientId: 'a', aadClientCertPath: '/etc/k/c.pfx' }), /aadClientCertPath/],
    ['an unknown cloud', JSON.stringify({ ...aks, cloud: 'AzureStackCloud' }), /set --arm-url/],
    ['a number where a string belongs', JSON.stringify({ ...aks, tenantId: 5 }), /tenantId must be a string/],
  ])('%s: a clear error', (_n, text, message) => {
    expect(() => parseCloudConfig(text, '/etc/kubernetes/azure.json')).toThrow(message);
  });

  it('never puts the secret in an error', () => {
    try {
      parseCloudConfig(JSON.stringify({ tenantId: 't', aadClientSecret: 'hunter2', cloud: 'Nowhere' }));
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
  });
});
