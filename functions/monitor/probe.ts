// One probe of one check: HTTP(S), TCP connect or DNS resolution, bounded by the check's timeout.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { MonitorCheck } from '../../shared/config/schema/monitoring.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import { builtin } from '../../shared/util/builtin.ts';

// The probes' network modules load with the first probe: a status page or a refused request needs none.
const dnsModule = builtin<typeof import('node:dns/promises')>('node:dns/promises');
const httpModule = builtin<typeof import('node:http')>('node:http');
const httpsModule = builtin<typeof import('node:https')>('node:https');
const netModule = builtin<typeof import('node:net')>('node:net');

export interface ProbeResult {
  up: boolean;
  latencyMs: number | null;
  status: number | null;
  /** Why it is down: timeout, refused, reset, dns, tls, status, body, json, error. */
  error: string | null;
  detail: string | null;
  /** When the server's certificate expires (HTTPS). */
  certExpiresAt?: string;
}

const MAX_BODY = 1024 * 1024;

export async function probe(check: MonitorCheck, env: NodeJS.ProcessEnv = process.env): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    if (check.kind === 'tcp') {
      await tcp(check.host, check.port, check.timeoutMs);
      return { up: true, latencyMs: elapsed(), status: null, error: null, detail: null };
    }
    if (check.kind === 'dns') return await dns(check, elapsed);
    return await http(check, env, elapsed);
  } catch (error) {
    return { up: false, latencyMs: null, status: null, ...classify(error as NodeJS.ErrnoException) };
  }
}

function classify(e: NodeJS.ErrnoException): { error: string; detail: string } {
  const code = e.code ?? '';
  const error =
    code === 'ETIMEDOUT' || e.name === 'TimeoutError'
      ? 'timeout'
      : code === 'ECONNREFUSED'
        ? 'refused'
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 'reset'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code.startsWith('ENODATA') || code === 'ESERVFAIL'
            ? 'dns'
            : /CERT|SSL|TLS|SELF_SIGNED/.test(code)
              ? 'tls'
              : 'error';
  return { error, detail: `${code ? `${code}: ` : ''}${e.message}`.slice(0, 300) };
}

function timeoutError(ms: number) {
  return Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' });
}

function tcp(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netModule().connect({ host, port });
    const timer = setTimeout(() => socket.destroy(timeoutError(timeoutMs)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function dns(
  check: Extract<MonitorCheck, { kind: 'dns' }>,
  elapsed: () => number,
): Promise<ProbeResult> {
  const resolver = new (dnsModule().Resolver)({ timeout: check.timeoutMs, tries: 1 });
  if (check.server) resolver.setServers([check.server]);
  let timer: NodeJS.Timeout | undefined;
  const answer = await Promise.race([
    resolver.resolve(check.name, check.recordType) as Promise<unknown[]>,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(check.timeoutMs)), check.timeoutMs);
    }),
  ]).finally(() => {
    // A slow resolver must not outlive its probe.
    clearTimeout(timer);
    resolver.cancel();
  });
  const values = answer.map((v) =>
    typeof v === 'string'
      ? v
      : Array.isArray(v)
        ? v.join('')
        : ((v as { exchange?: string }).exchange ?? JSON.stringify(v)),
  );
  const missing = check.expect.filter((e) => !values.includes(e));
  const latencyMs = elapsed();
  if (missing.length)
    return {
      up: false,
      latencyMs,
      status: null,
      error: 'dns',
      detail: `the answer (${values.join(', ')}) lacks ${missing.join(', ')}`,
    };
  return { up: true, latencyMs, status: null, error: null, detail: values.join(', ').slice(0, 300) };
}

async function http(
  check: Extract<MonitorCheck, { kind: 'http' }>,
  env: NodeJS.ProcessEnv,
  elapsed: () => number,
): Promise<ProbeResult> {
  const headers: Record<string, string> = { 'user-agent': 'fc-devops-monitor' };
  for (const [name, ref] of Object.entries(check.headers)) {
    const value = resolveSecret(ref, env);
    if (value === undefined)
      return { up: false, latencyMs: null, status: null, error: 'config', detail: `${ref} is not set` };
    headers[name] = value;
  }
  const { res, body, cert } = await fetchOnce(check.url, check.method, headers, check.timeoutMs);
  const latencyMs = elapsed();
  const base = { latencyMs, status: res.statusCode ?? null, ...(cert ? { certExpiresAt: cert } : {}) };
  if (!check.expectStatus.includes(res.statusCode ?? 0))
    return {
      ...base,
      up: false,
      error: 'status',
      detail: `answered ${res.statusCode}, expected ${check.expectStatus.join(' or ')}`,
    };
  if (check.bodyContains && !body.includes(check.bodyContains))
    return {
      ...base,
      up: false,
      error: 'body',
      detail: `the body lacks ${JSON.stringify(check.bodyContains)}`,
    };
  if (check.json) {
    let value: unknown;
    try {
      value = at(JSON.parse(body), check.json.path);
    } catch {
      return { ...base, up: false, error: 'json', detail: 'the body is not JSON' };
    }
    if (JSON.stringify(value) !== JSON.stringify(check.json.equals))
      return {
        ...base,
        up: false,
        error: 'json',
        detail: `${check.json.path} is ${JSON.stringify(value)?.slice(0, 100)}, expected ${JSON.stringify(check.json.equals)}`,
      };
  }
  return { ...base, up: true, error: null, detail: null };
}

/** `$.a.b[0]` of a parsed JSON value. */
export function at(value: unknown, path: string): unknown {
  let v = value;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)) {
    if (v === null || typeof v !== 'object') return undefined;
    v =
      m[1] !== undefined
        ? Object.hasOwn(v, m[1])
          ? (v as Record<string, unknown>)[m[1]]
          : undefined
        : (v as unknown[])[Number(m[2])];
  }
  return v;
}

function fetchOnce(url: string, method: string, headers: Record<string, string>, timeoutMs: number) {
  return new Promise<{ res: IncomingMessage; body: string; cert: string | undefined }>((resolve, reject) => {
    const tls = url.startsWith('https:');
    const req = (tls ? httpsModule() : httpModule()).request(
      url,
      { method, headers, agent: false },
      (res) => {
        let cert: string | undefined;
        if (tls) {
          const peer = (res.socket as TLSSocket).getPeerCertificate?.();
          if (peer?.valid_to) cert = new Date(peer.valid_to).toISOString();
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_BODY) chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ res, body: Buffer.concat(chunks).toString('utf8'), cert });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(timeoutError(timeoutMs)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}
