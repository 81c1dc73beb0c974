import { describe, expect, it } from 'vitest';
import { NonceCache, verifyAcs3 } from '../../local/sandbox/signatures.ts';
import { acs3Signature, canonicalRequest } from '../../shared/cloud/acs3.ts';

// Alibaba Cloud's V3 signature documentation (the request structure pages, e.g.
// https://help.aliyun.com/zh/model-studio/roa-style-request-body-signature-mechanism) shows this
// RunInstances request, signed with the example secret "YourAccessKeySecret", as
// `Authorization: ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;
// x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=e521358f…`.
const HEADERS = {
  host: 'ecs.cn-shanghai.aliyuncs.com',
  'x-acs-action': 'RunInstances',
  'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'x-acs-date': '2023-10-26T09:01:01Z',
  'x-acs-signature-nonce': 'd410180a5abf7fe235dd9b74aca91fc0',
  'x-acs-version': '2014-05-26',
};
const QUERY = { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' };
const SIGNATURE = 'e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804';
const request = (query: Record<string, string>, headers: Record<string, string>) => ({
  method: 'POST',
  path: '/',
  query,
  headers,
  body: Buffer.alloc(0),
});

describe('ACS3-HMAC-SHA256 against the documentation', () => {
  it('reproduces the documented signature', () => {
    const canonical = canonicalRequest(request(QUERY, HEADERS), Object.keys(HEADERS).sort());
    expect(acs3Signature('YourAccessKeySecret', canonical)).toBe(SIGNATURE);
  });

  it('is checked by the sandbox with its own code, which accepts the documented request and nothing else', () => {
    const headers = {
      ...HEADERS,
      authorization: `ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=${Object.keys(HEADERS).sort().join(';')},Signature=${SIGNATURE}`,
    };
    const keys = { YourAccessKeyId: 'YourAccessKeySecret' };
    const at = Date.parse('2023-10-26T09:01:30Z');
    expect(verifyAcs3(request(QUERY, headers), keys, new NonceCache(), at)).toBe('YourAccessKeyId');
    expect(() =>
      verifyAcs3(request({ ...QUERY, RegionId: 'cn-beijing' }, headers), keys, new NonceCache(), at),
    ).toThrow(expect.objectContaining({ code: 'SignatureDoesNotMatch' }));
  });
});
