import { describe, expect, it } from 'vitest';
import { appServiceBody, cacheKey, imdsBody, parseAppServiceRequest, parseImdsRequest, type TokenRequest } from './wire.ts';
import type { HttpError } from '../common/http-error.ts';

const u = (q: string) => new URL(`http://127.0.0.1:2578/metadata/identity/oauth2/token?${q}`);
const ok = (r: TokenRequest | HttpError) => ('flavour' in r ? r : undefined);
const err = (r: TokenRequest | HttpError) => ('status' in r ? r : undefined);

describe('IMDS requests', () => {
  const table: Array<[string, string, Record<string, string>, Partial<TokenRequest> | [number, string]]> = [
    ['resource', 'api-version=2018-02-01&resource=https://vault.azure.net', { metadata: 'true' }, { resource: 'https://vault.azure.net', selector: {} }],
    [
      'MSAL-style scope',
      'api-version=2019-08-01&scope=https://management.azure.com/.default',
      { metadata: 'True' },
      { resource: 'https://management.azure.com' },
    ],
    ['client_id selector', 'api-version=1&resource=r&client_id=abc', { metadata: 'true' }, { selector: { clientID: 'abc' } }],
    ['msi_res_id selector', 'api-version=1&resource=r&msi_res_id=/sub/x', { metadata: 'true' }, { selector: { resourceID: '/sub/x' } }],
    ['mi_res_id selector', 'api-version=1&resource=r&mi_res_id=/sub/y', { metadata: 'true' }, { selector: { resourceID: '/sub/y' } }],
    ['object_id selector', 'api-version=1&resource=r&object_id=o1', { metadata: 'true' }, { selector: { objectID: 'o1' } }],
    ['no Metadata header', 'api-version=1&resource=r', {}, [400, 'Required metadata header not specified']],
    ['Metadata: false', 'api-version=1&resource=r', { metadata: 'false' }, [400, 'Required metadata header not specified']],
    ['X-Forwarded-For', 'api-version=1&resource=r', { metadata: 'true', 'x-forwarded-for': '10.0.0.1' }, [400, 'X-Forwarded-For']],
    ['no api-version', 'resource=r', { metadata: 'true' }, [400, "'api-version' is missing"]],
    ['no resource', 'api-version=1', { metadata: 'true' }, [400, "'resource' is missing"]],
  ];
  it.each(table)('%s', (_n, q, headers, want) => {
    const r = parseImdsRequest(u(q), headers);
    if (Array.isArray(want)) {
      expect(err(r)?.status).toBe(want[0]);
      expect(err(r)?.body.error_description).toContain(want[1]);
    } else {
      expect(ok(r)).toMatchObject({ flavour: 'imds', ...want });
    }
  });
});

describe('App Service requests', () => {
  const secret = 'per-pod-secret';
  it('accepts the right header and principal_id', () => {
    const r = parseAppServiceRequest(new URL('http://x/msi/token?api-version=2019-08-01&resource=r&principal_id=p'), { 'x-identity-header': secret }, secret);
    expect(ok(r)).toEqual({
      flavour: 'appservice',
      resource: 'r',
      selector: { clientID: undefined, objectID: 'p', resourceID: undefined },
    });
  });
  it.each([[undefined], ['wrong'], ['per-pod-secreT']])('refuses header %j with 401', (given) => {
    const r = parseAppServiceRequest(new URL('http://x/msi/token?api-version=1&resource=r'), given ? { 'x-identity-header': given } : {}, secret);
    expect(err(r)?.status).toBe(401);
  });
});

describe('bodies and keys', () => {
  const t = { accessToken: 'eyJ.x.y', expiresOn: 1_000_3600, resource: 'r', clientId: 'c' };
  it('IMDS numbers are strings', () => {
    expect(imdsBody(t, 1_000_0000.4)).toEqual({
      access_token: 'eyJ.x.y',
      client_id: 'c',
      expires_in: '3600',
      expires_on: '10003600',
      ext_expires_in: '3600',
      not_before: '10000000',
      resource: 'r',
      token_type: 'Bearer',
    });
  });
  it('App Service body', () =>
    expect(appServiceBody(t)).toEqual({
      access_token: 'eyJ.x.y',
      expires_on: '10003600',
      resource: 'r',
      token_type: 'Bearer',
      client_id: 'c',
    }));
  it('keys ignore case of selectors and flavour', () => {
    const a = cacheKey({ flavour: 'imds', resource: 'R', selector: { clientID: 'ABC' } });
    const b = cacheKey({ flavour: 'appservice', resource: 'r', selector: { clientID: 'abc' } });
    expect(a).toBe(b);
    expect(cacheKey({ flavour: 'imds', resource: 'r', selector: {} })).not.toBe(b);
  });
});
