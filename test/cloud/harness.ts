import dns from 'node:dns';
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

/**
 * Make the cloud's host names (`*.aliyuncs.com`) resolve to this machine, as a hosts file would, so
 * an official SDK keeps its own endpoint and host handling. Returns what puts resolution back.
 */
export function routeAliyunHostsHere(): () => void {
  const lookup = dns.lookup;
  (dns as { lookup: unknown }).lookup = (
    host: string,
    options: unknown,
    done?: (...args: unknown[]) => void,
  ) => {
    const cb = (typeof options === 'function' ? options : done) as (...args: unknown[]) => void;
    const opts = (typeof options === 'object' && options ? options : {}) as { all?: boolean };
    if (!host.endsWith('.aliyuncs.com')) return (lookup as (...a: unknown[]) => void)(host, options, done);
    return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  };
  return () => {
    (dns as { lookup: unknown }).lookup = lookup;
  };
}
