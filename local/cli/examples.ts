import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { signRequest } from '../../shared/auth/signing.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import type { HttpTriggerEvent } from '../../shared/events/http.ts';
import { createJob } from '../../shared/events/job.ts';
import type { FunctionSpec } from '../runtime/s-yaml.ts';

export interface ExampleContext {
  fn: FunctionSpec;
  config: Config;
  /** The state directory of the running runtime (its local buckets). */
  stateDir: string;
  /** Signs HTTP examples when set. */
  key: { id: string; secret: string } | undefined;
  env: NodeJS.ProcessEnv;
  now: Date;
}

export interface Example {
  /** What it is, for `--example list` and before it is sent. */
  about: string;
  event: () => unknown;
}

const first = (o: object) => Object.keys(o)[0];

/** FC3's HTTP trigger event, signed with the operator key when there is one. */
function httpEvent(
  c: ExampleContext,
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): HttpTriggerEvent {
  const text = body === undefined ? '' : JSON.stringify(body);
  const signed = c.key
    ? signRequest({ method, path, body: text, keyId: c.key.id, secret: c.key.secret, now: c.now })
    : {};
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'fc-devops-cli',
    ...Object.fromEntries(Object.entries(signed).map(([k, v]) => [canonical(k), v])),
    ...extra,
  };
  if (method === 'POST') headers['Idempotency-Key'] = randomUUID();
  return {
    version: 'v1',
    rawPath: path,
    body: text,
    isBase64Encoded: false,
    headers,
    queryParameters: {},
    requestContext: {
      accountId: '1234567890123456',
      domainName: `${c.fn.name}.cn-hangzhou.fcapp.run`,
      domainPrefix: c.fn.name,
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fc-devops-cli' },
      requestId: `1-${c.now.getTime().toString(16)}-${randomUUID().slice(0, 8)}`,
      time: c.now.toISOString().replace(/\.\d+Z$/, 'Z'),
      timeEpoch: String(c.now.getTime()),
      triggerId: 'http',
    },
  };
}

const canonical = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, d: string, ch: string) => d + ch.toUpperCase());

/** A timer trigger's event, for the function's first (or named) timer. */
function timerEvent(c: ExampleContext) {
  const timer = c.fn.timers[0];
  return {
    triggerTime: c.now.toISOString().replace(/\.\d+Z$/, 'Z'),
    triggerName: timer?.triggerName ?? 'timer',
    payload: timer?.triggerConfig.payload ?? '',
  };
}

function job(kind: string, payload: unknown, c: ExampleContext) {
  return createJob({ kind, idempotencyKey: `example:${kind}:${randomUUID()}`, payload, now: c.now }).message;
}

/**
 * The OSS event for a real Terraform bundle of examples/terraform, written into the local bucket
 * first (without firing the trigger: this event is what the trigger would have sent).
 */
function bundleEvent(c: ExampleContext) {
  const bundles = c.config.terraform.bundles;
  const ws = first(c.config.terraform.workspaces);
  if (!bundles || !ws) throw new Error('the config has no terraform.bundles or no workspace to plan');
  const body = execFileSync('tar', ['-czf', '-', '-C', resolve('examples/terraform'), '.']);
  const key = `${bundles.prefix}${ws}/example-${c.now.getTime()}.tar.gz`;
  const file = join(c.stateDir, 'oss', bundles.bucket, key);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
  const eTag = createHash('md5').update(body).digest('hex').toUpperCase();
  return {
    events: [
      {
        eventName: 'ObjectCreated:PutObject',
        eventSource: 'acs:oss',
        eventTime: c.now.toISOString(),
        eventVersion: '1.0',
        oss: {
          bucket: {
            arn: `acs:oss:${c.config.region}:1234567890123456:${bundles.bucket}`,
            name: bundles.bucket,
            ownerIdentity: '1234567890123456',
          },
          object: { key, size: body.length, deltaSize: body.length, eTag },
          ossSchemaVersion: '1.0',
          ruleId: createHash('sha1').update(`${c.fn.name}/bundles`).digest('hex'),
        },
        region: c.config.region,
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { requestId: randomUUID().replace(/-/g, '').toUpperCase() },
        userIdentity: { principalId: '1234567890123456' },
      },
    ],
  };
}

/** The examples each function has, by trigger (`http`, `timer`, `oss`) or job kind. */
export function examplesFor(c: ExampleContext): Record<string, Example> {
  const cfg = c.config;
  const out: Record<string, Example> = {};
  if (c.fn.timers.length > 0)
    out.timer = { about: `the ${c.fn.timers[0]!.triggerName} timer firing now`, event: () => timerEvent(c) };
  switch (c.fn.name) {
    case 'notify':
      out.job = {
        about: 'an image.build.succeeded event for notify to route and deliver',
        event: () =>
          job(
            'notify.event',
            {
              id: randomUUID(),
              kind: 'image.build.succeeded',
              severity: 'info',
              subject: 'web@example',
              summary: 'image m-example built and smoke-tested (an example event from fc-devops invoke)',
              details: { pipeline: 'web' },
              labels: { pipeline: 'web' },
              time: c.now.toISOString(),
            },
            c,
          ),
      };
      break;
    case 'release': {
      const t = first(cfg.releases.targets);
      if (t)
        out.http = {
          about: `GET /targets/${t}: the target's status`,
          event: () => httpEvent(c, 'GET', `/targets/${t}`),
        };
      break;
    }
    case 'backup-rotate': {
      const p = first(cfg.backups.policies);
      if (p) {
        out.http = {
          about: `POST /policies/${p}/run {"dryRun":true}: what a rotation would keep and delete now`,
          event: () => httpEvent(c, 'POST', `/policies/${p}/run`, { dryRun: true }),
        };
        const instance = cfg.backups.policies[p]!.instances?.[0];
        if (instance)
          out.job = {
            about: `a backup.rotate job of ${p}/${instance}, as a dry run`,
            event: () => job('backup.rotate', { policy: p, instanceId: instance, dryRun: true }, c),
          };
      }
      break;
    }
    case 'git-webhook':
      out.http = {
        about: 'a GitHub ping delivery, signed with $GIT_WEBHOOK_SECRET (send git-push sends a real push)',
        event: () => {
          const body = JSON.stringify({
            zen: 'Keep it logically awesome.',
            hook_id: 1,
            hook: { type: 'Repository' },
          });
          const secret = c.env.GIT_WEBHOOK_SECRET ?? '';
          const e = httpEvent(c, 'POST', '/', undefined, {
            'X-Github-Event': 'ping',
            'X-Github-Delivery': randomUUID(),
            'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          });
          return { ...e, body };
        },
      };
      break;
    case 'image-prune':
      out.http = {
        about: 'POST /run {"dryRun":true}: what pruning would delete now',
        event: () => httpEvent(c, 'POST', '/run', { dryRun: true }),
      };
      break;
    case 'image-build': {
      const p = first(cfg.images.pipelines);
      if (p)
        out.http = {
          about: `POST /pipelines/${p}/builds: rebuild the newest commit of its repository`,
          event: () => {
            const url = cfg.images.pipelines[p]!.repository.url;
            const commit = execFileSync('git', ['-C', resolve(url), 'rev-parse', 'HEAD'], {
              encoding: 'utf8',
            }).trim();
            return httpEvent(c, 'POST', `/pipelines/${p}/builds`, { commit });
          },
        };
      break;
    }
    case 'terraform': {
      const ws = first(cfg.terraform.workspaces);
      if (ws)
        out.http = {
          about: `GET /workspaces/${ws}: locks, state and the last plans`,
          event: () => httpEvent(c, 'GET', `/workspaces/${ws}`),
        };
      if (c.fn.oss.length > 0)
        out.oss = {
          about: 'an OSS upload of a bundle of examples/terraform: planned once',
          event: () => bundleEvent(c),
        };
      break;
    }
    case 'scale': {
      const t = first(cfg.scaling.targets);
      if (t)
        out.http = {
          about: `GET /targets/${t}: capacity, bounds and holds`,
          event: () => httpEvent(c, 'GET', `/targets/${t}`),
        };
      break;
    }
    case 'monitor':
      out.http = {
        about: 'GET /checks: every check, up or down',
        event: () => httpEvent(c, 'GET', '/checks'),
      };
      break;
    case 'console':
      out.http = { about: 'GET /sign-in: the sign-in page', event: () => httpEvent(c, 'GET', '/sign-in') };
      break;
  }
  return out;
}
