import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NonceCache, verifyRoa, verifyRpc } from '../../local/sandbox/signatures.ts';
import {
  flattenParams,
  roaStringToSign,
  rpcSignature,
  signRoa,
  signRpcForm,
} from '../../shared/cloud/rpc-sign.ts';

/**
 * Known answers from the official SDKs' own tests, never from our code: openapi-util's
 * GetRPCSignature tests (Go and C++: `{"test":"ok"}`, method "", secret `accessKeySecret`; Java:
 * `{"query":"test","body":"test"}`, GET, `secret`) and pop-core's ROA tests (buildStringToSign,
 * getCanonicalizedHeaders, getCanonicalizedResource, replaceRepeatList).
 */
describe('RPC signature V2, against the official SDKs', () => {
  it('reproduces openapi-util GetRPCSignature vectors', () => {
    expect(rpcSignature({ test: 'ok' }, '', 'accessKeySecret')).toBe('jHx/oHoHNrbVfhncHEvPdHXZwHU=');
    expect(rpcSignature({ query: 'test', body: 'test' }, 'GET', 'secret')).toBe(
      'XlUyV4sXjOuX5FnjUz9IF9tm5rU=',
    );
    // One value changed, another signature: the test can fail.
    expect(rpcSignature({ test: 'ok!' }, '', 'accessKeySecret')).not.toBe('jHx/oHoHNrbVfhncHEvPdHXZwHU=');
  });

  it('flattens lists as pop-core replaceRepeatList does', () => {
    expect(flattenParams({ key: ['value'] })).toEqual({ 'key.1': 'value' });
    expect(flattenParams({ key: [{ Domain: '1.com' }] })).toEqual({ 'key.1.Domain': '1.com' });
    expect(flattenParams({ key: [], n: 3, skip: undefined })).toEqual({ n: '3' });
  });

  it('signs a form the sandbox accepts with its own verifier, and that it refuses once changed', () => {
    const keys = { AK1: 'S3cret' };
    const form = signRpcForm(
      'DescribeImages',
      '2014-05-26',
      { RegionId: 'cn-hangzhou', ImageId: ['m-1', 'm 2'] },
      {
        accessKeyId: 'AK1',
        accessKeySecret: 'S3cret',
      },
    );
    const params = Object.fromEntries(new URLSearchParams(form));
    expect(params).toMatchObject({
      'ImageId.1': 'm-1',
      'ImageId.2': 'm 2',
      Format: 'JSON',
      SignatureVersion: '1.0',
    });
    expect(verifyRpc('POST', params, keys, new NonceCache())).toBe('AK1');
    expect(() => verifyRpc('POST', { ...params, RegionId: 'cn-shanghai' }, keys, new NonceCache())).toThrow(
      /server string to sign is:POST&%2F&/,
    );
  });
});

describe('a client that canonicalises wrongly is refused', () => {
  /** The RPC string to sign, with percent-encoding as a choice: RFC 3986 is right; the others are flips. */
  const sign = (params: Record<string, string>, secret: string, encode: (v: string) => string) => {
    const canonical = Object.keys(params)
      .sort()
      .map((k) => `${encode(k)}=${encode(params[k]!)}`)
      .join('&');
    const toSign = `POST&${encode('/')}&${encode(canonical)}`;
    return createHmac('sha1', `${secret}&`).update(toSign).digest('base64');
  };
  const rfc3986 = (v: string) =>
    encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const flips: [string, (v: string) => string][] = [
    // JavaScript's own: leaves ! ' ( ) * as they are.
    ['encodeURIComponent', encodeURIComponent],
    // Form encoding: a space as +.
    ['form encoding', (v) => new URLSearchParams({ v }).toString().slice(2)],
    // Lower-case hex.
    ['lower-case escapes', (v) => rfc3986(v).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
  ];

  it('accepts the RFC 3986 canonical form and refuses each flipped one', () => {
    const keys = { AK1: 'S3cret' };
    const params: Record<string, string> = {
      AccessKeyId: 'AK1',
      Action: 'DescribeImages',
      Format: 'JSON',
      // A value that tells the encodings apart.
      ImageName: "web (2026) it's * ~ done",
      RegionId: 'cn-hangzhou',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'flip-0',
      SignatureVersion: '1.0',
      Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: '2014-05-26',
    };
    const right = { ...params, Signature: sign(params, 'S3cret', rfc3986) };
    expect(verifyRpc('POST', right, keys, new NonceCache())).toBe('AK1');
    for (const [name, encode] of flips) {
      const nonce = `flip-${name.replace(/\W/g, '')}`;
      const flipped = { ...params, SignatureNonce: nonce };
      expect({
        name,
        error: (() => {
          try {
            verifyRpc(
              'POST',
              { ...flipped, Signature: sign(flipped, 'S3cret', encode) },
              keys,
              new NonceCache(),
            );
            return 'accepted';
          } catch (error) {
            return (error as { code?: string }).code;
          }
        })(),
      }).toEqual({ name, error: 'SignatureDoesNotMatch' });
    }
  });
});

describe('ROA signature, against pop-core', () => {
  it('builds the string to sign as pop-core does', () => {
    expect(roaStringToSign('GET', '/', { accept: 'application/json' }, {})).toBe(
      'GET\napplication/json\n\n\n\n/',
    );
    const headers = {
      accept: 'application/json',
      'content-md5': 'md5',
      'content-type': 'application/json',
      date: 'date',
    };
    expect(roaStringToSign('GET', '/', headers, {})).toBe(
      'GET\napplication/json\nmd5\napplication/json\ndate\n/',
    );
    expect(roaStringToSign('GET', '/', { 'x-acs-key': 'value' }, {})).toBe('GET\n\n\n\n\nx-acs-key:value\n/');
    expect(roaStringToSign('GET', '/', {}, { key1: 'value2', key: 'value' })).toBe(
      'GET\n\n\n\n\n/?key=value&key1=value2',
    );
  });

  it('signs headers the sandbox accepts with its own verifier', () => {
    const body = Buffer.from('{"a":1}');
    const headers = signRoa(
      {
        method: 'POST',
        path: '/clusters/c1/nodepools',
        query: { x: 'y z' },
        headers: { 'content-type': 'application/json' },
        body,
      },
      { accessKeyId: 'AK1', accessKeySecret: 'S3cret', securityToken: 'tok' },
      { version: '2015-12-15', host: 'cs.cn-hangzhou.aliyuncs.com', now: new Date('2026-11-30T10:00:00Z') },
    );
    expect(headers.date).toBe('Mon, 30 Nov 2026 10:00:00 GMT');
    expect(headers['content-md5']).toBe('u2y1xo30ZSlByvZSo2by2A==');
    expect(headers['x-acs-security-token']).toBe('tok');
    expect(headers.authorization).toMatch(/^acs AK1:[A-Za-z0-9+/]{27}=$/);
    // The sandbox checks the Date against its clock: sign now for the verifier.
    const now = signRoa(
      {
        method: 'POST',
        path: '/clusters/c1/nodepools',
        query: { x: 'y z' },
        headers: { 'content-type': 'application/json' },
        body,
      },
      { accessKeyId: 'AK1', accessKeySecret: 'S3cret' },
      { version: '2015-12-15', host: 'cs.cn-hangzhou.aliyuncs.com' },
    );
    const req = { method: 'POST', path: '/clusters/c1/nodepools', query: { x: 'y z' }, headers: now, body };
    expect(verifyRoa(req, { AK1: 'S3cret' }, new NonceCache())).toBe('AK1');
    expect(() =>
      verifyRoa({ ...req, path: '/clusters/c2/nodepools' }, { AK1: 'S3cret' }, new NonceCache()),
    ).toThrow(/SignatureDoesNotMatch|not matched/);
  });
});
