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
    ['client_id selector', 'api-version=1&resource=https://r.example&client_id=abc', { metadata: 'true' }, { selector: { clientID: 'abc' } }],
    ['msi_res_id selector', 'api-version=1&resource=https://r.example&msi_res_id=/sub/x', { metadata: 'true' }, { selector: { resourceID: '/sub/x' } }],
    ['mi_res_id selector', 'api-version=1&resource=https://r.example&mi_res_id=/sub/y', { metadata: 'true' }, { selector: { resourceID: '/sub/y' } }],
    ['object_id selector', 'api-version=1&resource=https://r.example&object_id=o1', { metadata: 'true' }, { selector: { objectID: 'o1' } }],
    ['no Metadata header', 'api-version=1&resource=https://r.example', {}, [400, 'Required metadata header not specified']],
    ['Metadata: false', 'api-version=1&resource=https://r.example', { metadata: 'false' }, [400, 'Required metadata header not specified']],
    ['X-Forwarded-For', 'api-version=1&resource=https://r.example', { metadata: 'true', 'x-forwarded-for': '10.0.0.1' }, [400, 'X-Forwarded-For']],
    ['no api-version', 'resource=https://r.example', { metadata: 'true' }, [400, "'api-version' is missing"]],
    ['no resource', 'api-version=1', { metadata: 'true' }, [400, "'resource' is missing"]],
    [
      'trailing slash kept as sent',
      'api-version=1&resource=https://management.core.windows.net/',
      { metadata: 'true' },
      { resource: 'https://management.core.windows.net/' },
    ],
    [
      'scope resource//.default keeps the slash',
      'api-version=1&scope=https://database.windows.net//.default',
      { metadata: 'true' },
      { resource: 'https://database.windows.net/' },
    ],
    [
      'application id as resource',
      'api-version=1&resource=00000002-0000-0000-c000-000000000000',
      { metadata: 'true' },
      { resource: '00000002-0000-0000-c000-000000000000' },
    ],
    ['api:// resource', 'api-version=1&resource=api://my-app', { metadata: 'true' }, { resource: 'api://my-app' }],
    ['Forwarded (RFC 7239)', 'api-version=1&resource=https://r.example', { metadata: 'true', forwarded: 'for=10.0.0.1' }, [400, 'Forwarded']],
    ['second client_id', 'api-version=1&resource=https://r.example&client_id=a&client_id=b', { metadata: 'true' }, [400, 'Give client_id once']],
    [
      'empty client_id beside a real one',
      'api-version=1&resource=https://r.example&client_id=&client_id=b',
      { metadata: 'true' },
      [400, 'Give client_id once'],
    ],
    [
      'msi_res_id and mi_res_id both',
      'api-version=1&resource=https://r.example&msi_res_id=/a&mi_res_id=/b',
      { metadata: 'true' },
      [400, 'Give msi_res_id or mi_res_id once'],
    ],
    ['second object_id', 'api-version=1&resource=https://r.example&object_id=o&object_id=o', { metadata: 'true' }, [400, 'Give object_id once']],
    ['two resources', 'api-version=1&resource=https://a.example&resource=https://b.example', { metadata: 'true' }, [400, 'Give one resource']],
    ['resource and scope', 'api-version=1&resource=https://a.example&scope=https://b.example/.default', { metadata: 'true' }, [400, 'Give one resource']],
    ['resource not an absolute URI', 'api-version=1&resource=vault', { metadata: 'true' }, [400, 'is not an absolute URI']],
    ['resource with CR/LF', 'api-version=1&resource=https://a.example%0d%0aX-Injected:%201', { metadata: 'true' }, [400, 'control characters']],
    ['resource too long', `api-version=1&resource=https://a.example/${'x'.repeat(2100)}`, { metadata: 'true' }, [400, 'longer than 2048']],
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
    const r = parseAppServiceRequest(
      new URL('http://x/msi/token?api-version=2019-08-01&resource=https://r.example&principal_id=p'),
      { 'x-identity-header': secret },
      secret,
    );
    expect(ok(r)).toEqual({
      flavour: 'appservice',
      resource: 'https://r.example',
      selector: { objectID: 'p' },
    });
  });
  it('principal_id and object_id both name the object id: once between them', () => {
    const r = parseAppServiceRequest(
      new URL('http://x/msi/token?api-version=1&resource=https://r.example&principal_id=p&object_id=q'),
      { 'x-identity-header': secret },
      secret,
    );
    expect(err(r)?.status).toBe(400);
  });
  it.each([[undefined], ['wrong'], ['per-pod-secreT']])('refuses header %j with 401', (given) => {
    const r = parseAppServiceRequest(
      new URL('http://x/msi/token?api-version=1&resource=https://r.example'),
      given ? { 'x-identity-header': given } : {},
      secret,
    );
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
