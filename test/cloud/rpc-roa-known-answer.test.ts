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
