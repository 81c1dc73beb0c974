import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OSS from 'ali-oss';
import type { Seed } from '../../local/sandbox/seed.ts';
import { Sandbox } from '../../local/sandbox/server.ts';
import { type Cloud, createCloud } from '../../shared/cloud/cloud.ts';

export const KEY = { accessKeyId: 'LTAI5tSandboxTestKey01', accessKeySecret: 'sandbox-test-secret' };
export const SEED = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../local/sandbox/seed.example.json'), 'utf8'),
) as Seed;

export async function startSandbox(
  options: { timeScale?: number; wallClock?: () => number } = {},
): Promise<Sandbox> {
  return Sandbox.start({
    port: 0,
    dir: mkdtempSync(join(tmpdir(), 'sandbox-')),
    seed: SEED,
    keys: { [KEY.accessKeyId]: KEY.accessKeySecret },
    sinks: {
      dingtalk: { tok: 'SECsecret' },
      lark: { hook1: 'lark-secret' },
      wecom: ['wk'],
      slack: ['/services/T/B/X'],
      webhook: { audit: 'hook-secret' },
    },
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    ...(options.wallClock ? { wallClock: options.wallClock } : {}),
  });
}

export function cloudFor(sandbox: Sandbox, credentials = KEY): Cloud {
  return createCloud({
    region: 'cn-hangzhou',
    accountId: '1234567890123456',
    baseUrl: sandbox.url,
    credentials: async () => credentials,
    retry: { attempts: 5, baseMs: 10, maxMs: 50 },
  });
}

/**
 * The official OSS SDK (ali-oss), unmodified, for the sandbox: signature V4 (`authorizationV4`),
 * path-style to an endpoint given by address (`sldEnable`), the sandbox's region. Only the endpoint
 * and the keys differ from the cloud. (Both options are ali-oss 6.x's; @types/ali-oss lacks them.)
 */
export function officialOss(sandbox: Sandbox, keys: { accessKeyId: string; accessKeySecret: string } = KEY) {
  return new OSS({
    ...keys,
    region: 'oss-cn-hangzhou',
    endpoint: sandbox.url,
    bucket: 'fc-devops-artifacts',
    secure: false,
    timeout: 30_000,
    ...{ authorizationV4: true, sldEnable: true },
  });
}
