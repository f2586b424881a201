// A service principal's credential from its Kubernetes Secret, as MSAL takes it: type 1 reads
// the secret under any single key (clientSecret or clientsecret when there are several); type 2 reads `certificate` (PEM with the private key, or PKCS#12 with `password`);
// type 3 presents NMI's projected service-account token as a federated assertion.

import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { forge as forgeModule } from '../common/forge.ts';
import { IdentityType, type AzureIdentity } from '../identity/crds.ts';

export type SecretData = Readonly<Record<string, Buffer>>;

export type MsalCredential =
  { clientSecret: string } | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c: string } } | { clientAssertion: () => Promise<string> };

/** What is wrong with a Secret, in words safe to return to the caller (never the Secret's content). */
export class CredentialError extends Error {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

function fromPem(pem: string, password?: string): { certPem: string; keyPem: string } {
  const cert = PEM_CERT.exec(pem)?.[0];
  if (!cert) throw new CredentialError('the certificate PEM holds no CERTIFICATE block');
  let key;
  try {
    key = createPrivateKey(password ? { key: pem, passphrase: password } : pem);
  } catch {
    throw new CredentialError('the certificate PEM holds no readable private key (wrong password?)');
  }
  return { certPem: cert, keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

function fromPkcs12(der: Buffer, password: string): { certPem: string; keyPem: string } {
  const forge = forgeModule();
  let p12;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), password);
  } catch {
    throw new CredentialError('the PKCS#12 certificate cannot be opened (wrong password or not PKCS#12)');
  }
  const bag = (type: string) => p12.getBags({ bagType: type })[type]?.[0];
  const { certBag: certType, pkcs8ShroudedKeyBag, keyBag: plainKey } = forge.pki.oids as Record<string, string>;
  const certBag = bag(certType!);
  const keyBag = bag(pkcs8ShroudedKeyBag!) ?? bag(plainKey!);
  if (!certBag?.cert || !keyBag?.key) throw new CredentialError('the PKCS#12 file lacks a certificate or a private key');
  // MSAL takes PKCS#8; forge writes PKCS#1 with CRLF line ends.
  const keyPem = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key)).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { certPem: forge.pki.certificateToPem(certBag.cert).replace(/\r\n/g, '\n'), keyPem };
}

/** The certificate credential for MSAL: SHA-256 thumbprint (hex), PKCS#8 key, and the public chain for x5c. */
export function certificateCredential(data: SecretData): MsalCredential {
  const raw = data.certificate;
  if (!raw?.length) throw new CredentialError('has no "certificate" key');
  const password = data.password?.toString('utf8');
  const text = raw.toString('utf8');
  const { certPem, keyPem } = text.includes('-----BEGIN') ? fromPem(text, password) : fromPkcs12(raw, password ?? '');
  const thumbprintSha256 = createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
  return { clientCertificate: { thumbprintSha256, privateKey: keyPem, x5c: certPem } };
}

/**
 * Type 1's secret as aad-pod-identity reads it: the Secret's value under any key (its docs and demo write
 * `clientSecret`; podid's own docs `clientsecret`). With several keys, the one named clientsecret in any letter
 * case; otherwise it is ambiguous and refused naming the keys (never their values).
 */
export function clientSecretOf(data: SecretData): string {
  const keys = Object.keys(data).filter((k) => data[k]?.length);
  const named = keys.filter((k) => k.toLowerCase() === 'clientsecret');
  const key = keys.length === 1 ? keys[0] : named.length === 1 ? named[0] : undefined;
  if (!key) {
    throw new CredentialError(
      keys.length ? `has ${keys.length} keys (${keys.join(', ')}) and none is clientSecret: keep one key, or name it clientSecret` : 'holds no client secret',
    );
  }
  const secret = data[key]!.toString('utf8').trim();
  if (!secret) throw new CredentialError(`has an empty "${key}"`);
  return secret;
}

export async function credentialFor(
  identity: AzureIdentity,
  readSecret: () => Promise<SecretData>,
  federatedTokenFile: string | undefined,
): Promise<MsalCredential> {
  if (identity.type === IdentityType.FederatedServicePrincipal) {
    if (!federatedTokenFile) throw new CredentialError('type 3 needs NMI started with --federated-token-file');
    return { clientAssertion: async () => (await readFile(federatedTokenFile, 'utf8')).trim() };
  }
  const data = await readSecret();
  if (identity.type === IdentityType.ServicePrincipal) return { clientSecret: clientSecretOf(data) };
  return certificateCredential(data);
}

/** Changes when the credential material changes (secret rotation), without keeping the material. */
export function credentialFingerprint(c: MsalCredential): string {
  const material =
    'clientSecret' in c ? c.clientSecret : 'clientCertificate' in c ? c.clientCertificate.thumbprintSha256 + c.clientCertificate.privateKey : 'federated';
  return createHash('sha256').update(material).digest('base64url');
}
