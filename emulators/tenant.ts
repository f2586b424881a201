// One Azure AD tenant as the emulators see it: app registrations (secret, certificate, federated
// credentials), user-assigned managed identities, and the key that signs the access tokens it issues.

import { generateKeyPairSync, randomUUID, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeJwt, signJwt, verifySignature, type Claims } from './jwt.ts';

export interface FederatedCredential {
  issuer: string;
  subject: string;
  /** Default `api://AzureADTokenExchange`, as Azure AD requires. */
  audience?: string;
  /** The issuer's signing key (e.g. the kube-apiserver's service-account public key), or: */
  publicKeyPem?: string;
  /**
   * The issuer's current keys, read when an assertion arrives, as Azure AD reads them from the issuer's OIDC
   * discovery document and its jwks_uri (for a cluster: the kube-apiserver's /.well-known/openid-configuration and
   * /openid/v1/jwks). The assertion's `kid` picks the key.
   */
  jwks?: () => Promise<{ keys: JsonWebKey[] }>;
}

export interface AppRegistration {
  clientId: string;
  /** The service principal's object ID (the `oid` of its tokens). */
  objectId: string;
  secret?: string;
  certificatePem?: string;
  federated?: FederatedCredential[];
}

export interface ManagedIdentity {
  clientId: string;
  objectId: string;
  resourceId: string;
}

export interface MintedToken {
  accessToken: string;
  expiresOn: number;
  expiresIn: number;
}

export class Tenant {
  readonly id: string;
  readonly kid = randomUUID();
  readonly apps: AppRegistration[] = [];
  readonly managedIdentities: ManagedIdentity[] = [];
  /** Seconds an issued token lives (Azure AD: 60–90 minutes). */
  tokenLifetimeSeconds = 3599;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(id: string = randomUUID()) {
    this.id = id;
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  app(clientId: string): AppRegistration | undefined {
    return this.apps.find((a) => a.clientId === clientId);
  }

  certificateKey(app: AppRegistration): { key: KeyObject; der: Buffer } | undefined {
    if (!app.certificatePem) return undefined;
    const cert = new X509Certificate(app.certificatePem);
    return { key: cert.publicKey, der: cert.raw };
  }

  /** An access token for `resource` (its audience) issued to the principal (appid, oid). */
  mint(resource: string, principal: { clientId: string; objectId: string }, version: '1.0' | '2.0' = '1.0'): MintedToken {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.tokenLifetimeSeconds;
    const claims: Claims = {
      aud: resource,
      iss: version === '1.0' ? `https://sts.windows.net/${this.id}/` : `https://login.microsoftonline.com/${this.id}/v2.0`,
      iat: now,
      nbf: now,
      exp,
      appid: principal.clientId,
      ...(version === '2.0' ? { azp: principal.clientId } : {}),
      idtyp: 'app',
      oid: principal.objectId,
      sub: principal.objectId,
      tid: this.id,
      ver: version,
      uti: randomUUID(),
    };
    return { accessToken: signJwt(claims, this.privateKey, { kid: this.kid, x5t: this.kid }), expiresOn: exp, expiresIn: exp - now };
  }

  /** The claims of a token this tenant issued; throws if the signature or expiry is wrong. */
  verify(token: string): Claims {
    const jwt = decodeJwt(token);
    if (!verifySignature(jwt, this.publicKey)) throw new Error('token not signed by this tenant');
    if (typeof jwt.claims.exp !== 'number' || jwt.claims.exp < Date.now() / 1000) throw new Error('token expired');
    return jwt.claims;
  }

  /**
   * A federated identity credential on an app registration or a user-assigned managed identity (what `az ad app
   * federated-credential create` and `az identity federated-credential create` do): the identity then accepts a
   * client assertion from that issuer and subject. A managed identity is a service principal too; its credentials
   * make it a client of the token endpoint like an app. Azure allows 20 per identity.
   */
  federate(clientId: string, credential: FederatedCredential): void {
    let app = this.app(clientId);
    if (!app) {
      const msi = this.managedIdentities.find((m) => m.clientId === clientId);
      if (!msi) throw new Error(`no app registration or managed identity with client ID ${clientId}`);
      app = { clientId: msi.clientId, objectId: msi.objectId, federated: [] };
      this.apps.push(app);
    }
    app.federated ??= [];
    if (app.federated.length >= 20) throw new Error(`identity ${clientId} has 20 federated credentials, Azure's limit`);
    app.federated.push(credential);
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ ...jwk, kid: this.kid, use: 'sig', alg: 'RS256' }] };
  }
}
