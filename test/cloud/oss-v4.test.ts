import { describe, expect, it } from 'vitest';
import { verifyOssV4 } from '../../local/sandbox/signatures.ts';
import { ossV4Query, signOssV4 } from '../../shared/cloud/oss.ts';

// The official SDKs' own test vector for OSS signature V4: TestAuthV4Header and TestAuthV4HeaderToken
// in aliyun/alibabacloud-oss-go-sdk-v2 (oss/signer/signer_test.go), the same in the Python v2, C#
// and iOS SDKs' signer tests: access key "ak"/"sk", bucket "bucket", key "1234+-/123/1.txt",
// cn-hangzhou, these headers and query parameters.
const VECTOR = {
  method: 'PUT',
  bucket: 'bucket',
  key: '1234+-/123/1.txt',
  region: 'cn-hangzhou',
  accessKeyId: 'ak',
  accessKeySecret: 'sk',
  headers: {
    'x-oss-head1': 'value',
    abc: 'value',
    ZAbc: 'value',
    XYZ: 'value',
    'content-type': 'text/plain',
    'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
  },
  query: {
    param1: 'value1',
    '+param1': 'value3',
    '|param1': 'value4',
    '+param2': '',
    '|param2': '',
    param2: '',
  },
};

describe("OSS signature V4 against the official SDKs' vectors", () => {
  it('signs the vector as the SDKs do', () => {
    const signed = signOssV4({ ...VECTOR, time: new Date(1702743657 * 1000) });
    expect(signed.authorization).toBe(
      'OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe',
    );
    expect(signed['x-oss-date']).toBe('20231216T162057Z');
  });
  it('signs the vector with a security token as the SDKs do', () => {
    const signed = signOssV4({ ...VECTOR, securityToken: 'token', time: new Date(1702784856 * 1000) });
    expect(signed.authorization).toBe(
      'OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea',
    );
    expect(signed['x-oss-security-token']).toBe('token');
  });
  it('puts on the wire the query it signed: RFC 3986, sorted by encoded name, bare when empty', () => {
    expect(ossV4Query(VECTOR.query)).toBe(
      '%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2',
    );
    expect(ossV4Query({ prefix: 'a b/c~*', uploads: '' })).toBe('prefix=a%20b%2Fc~%2A&uploads');
  });
});

describe('the sandbox checks V4 signatures with its own code', () => {
  const at = 1702784856 * 1000;
  const request = (over: Partial<{ rawQuery: string; headers: Record<string, string> }> = {}) => {
    const headers = signOssV4({ ...VECTOR, securityToken: 'token', time: new Date(at) });
    return {
      method: 'PUT',
      bucket: 'bucket',
      key: '1234+-/123/1.txt',
      // As a client sends it: its own encoding, in its own order (the server sorts).
      rawQuery: 'param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2=&%7Cparam2=&param2=',
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      ...over,
    };
  };
  const keys = { ak: 'sk' };
  it('accepts the SDK vector, whatever order the query came in', () => {
    expect(verifyOssV4(request(), keys, 'cn-hangzhou', at)).toBe('ak');
  });
  it.each([
    [
      'a changed query value',
      { rawQuery: 'param1=value2&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2=&%7Cparam2=&param2=' },
      'SignatureDoesNotMatch',
    ],
    [
      'a changed signed header',
      { headers: { ...request().headers, 'x-oss-head1': 'other' } },
      'SignatureDoesNotMatch',
    ],
    [
      'an unknown key',
      {
        headers: {
          ...request().headers,
          authorization: request().headers.authorization!.replace('Credential=ak/', 'Credential=nobody/'),
        },
      },
      'InvalidAccessKeyId',
    ],
    [
      'no V4 authorization',
      { headers: { ...request().headers, authorization: 'OSS ak:abc=' } },
      'AccessDenied',
    ],
  ])('refuses %s', (_what, over, code) => {
    expect(() => verifyOssV4(request(over), keys, 'cn-hangzhou', at)).toThrow(
      expect.objectContaining({ code }),
    );
  });
  it("refuses another region's scope and a stale date", () => {
    expect(() => verifyOssV4(request(), keys, 'cn-shanghai', at)).toThrow(
      expect.objectContaining({ code: 'SignatureDoesNotMatch' }),
    );
    expect(() => verifyOssV4(request(), keys, 'cn-hangzhou', at + 16 * 60_000)).toThrow(
      expect.objectContaining({ code: 'RequestTimeTooSkewed' }),
    );
  });
});
