import { InvariantError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import type { AckAdapter } from './adapters/ack.ts';
import type { DirectMailAdapter } from './adapters/directmail.ts';
import type { EcsAdapter } from './adapters/ecs.ts';
import type { EssAdapter } from './adapters/ess.ts';
import type { RdsAdapter } from './adapters/rds.ts';
import { type CredentialSource, credentialsFrom } from './credentials.ts';
import { endpointFor, type Product } from './endpoints.ts';
import { FcClient } from './fc.ts';
import type { OssClient } from './oss.ts';
import type { RetryPolicy } from './retry.ts';

export interface CloudOptions {
  region: string;
  accountId: string;
  credentials?: CredentialSource;
  /** Every product under one URL (the sandbox): `FC_DEVOPS_CLOUD_URL`. */
  baseUrl?: string | undefined;
  overrides?: Partial<Record<Product, string>>;
  timeoutMs?: number;
  retry?: RetryPolicy;
  log?: Logger;
}

/** One product adapter per Alibaba Cloud service the functions use, sharing credentials and policy. */
export interface Cloud {
  rds: RdsAdapter;
  ecs: EcsAdapter;
  ess: EssAdapter;
  ack: AckAdapter;
  mail: DirectMailAdapter;
  fc: FcClient;
  oss: OssClient;
}

/**
 * An adapter whose module is imported on its first call. Each function uses two or three of the
 * seven products (git-webhook only FC), and the rest (~18 KB with the RPC and ROA signers) cost
 * every cold start its compile. Only for adapters whose every method is async (a call awaits the
 * import first): test/unit/cloud-lazy.test.ts holds each of them to that.
 */
export function lazyAdapter<T extends object>(product: string, load: () => Promise<T>): T {
  let loaded: Promise<T> | undefined;
  const methods = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as T, {
    get(_, name) {
      // Never a thenable: `await cloud.oss` must not call into it.
      if (name === 'then' || typeof name === 'symbol') return undefined;
      let method = methods.get(name);
      if (!method) {
        method = async (...args: unknown[]) => {
          loaded ??= load();
          const adapter = await loaded;
          const member = (adapter as Record<string, unknown>)[name];
          if (typeof member !== 'function')
            throw new InvariantError(`the ${product} adapter has no method ${name}`);
          return member.apply(adapter, args);
        };
        methods.set(name, method);
      }
      return method;
    },
  });
}

export function createCloud(options: CloudOptions): Cloud {
  const credentials = options.credentials ?? credentialsFrom();
  const endpoint = (p: Product) => endpointFor(p, options);
  const common = {
    credentials,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const rpc = async (service: Product, apiVersion: string) => {
    const { RpcClient } = await import('./rpc.ts');
    return new RpcClient({ service, endpoint: endpoint(service), apiVersion, ...common });
  };
  return {
    rds: lazyAdapter('rds', async () => {
      const { RdsAdapter } = await import('./adapters/rds.ts');
      return new RdsAdapter(await rpc('rds', '2014-08-15'), options.region);
    }),
    ecs: lazyAdapter('ecs', async () => {
      const { EcsAdapter } = await import('./adapters/ecs.ts');
      return new EcsAdapter(await rpc('ecs', '2014-05-26'), options.region);
    }),
    ess: lazyAdapter('ess', async () => {
      const { EssAdapter } = await import('./adapters/ess.ts');
      return new EssAdapter(await rpc('ess', '2014-08-28'), options.region);
    }),
    ack: lazyAdapter('ack', async () => {
      const [{ AckAdapter }, { RoaClient }] = await Promise.all([
        import('./adapters/ack.ts'),
        import('./roa.ts'),
      ]);
      return new AckAdapter(
        new RoaClient({ service: 'cs', endpoint: endpoint('cs'), apiVersion: '2015-12-15', ...common }),
      );
    }),
    mail: lazyAdapter('dm', async () => {
      const { DirectMailAdapter } = await import('./adapters/directmail.ts');
      return new DirectMailAdapter(await rpc('dm', '2015-11-23'));
    }),
    // FC is how every function publishes its events and enqueues jobs: loaded with the function.
    fc: new FcClient({ endpoint: endpoint('fc'), ...common }),
    oss: lazyAdapter('oss', async () => {
      const { OssClient } = await import('./oss.ts');
      return new OssClient({ endpoint: endpoint('oss'), region: options.region, ...common });
    }),
  };
}
