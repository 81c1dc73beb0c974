import type { Logger } from '../runtime/logger.ts';
import { AckAdapter } from './adapters/ack.ts';
import { DirectMailAdapter } from './adapters/directmail.ts';
import { EcsAdapter } from './adapters/ecs.ts';
import { EssAdapter } from './adapters/ess.ts';
import { RdsAdapter } from './adapters/rds.ts';
import { type CredentialSource, credentialsFrom } from './credentials.ts';
import { endpointFor, type Product } from './endpoints.ts';
import { FcClient } from './fc.ts';
import { OssClient } from './oss.ts';
import type { RetryPolicy } from './retry.ts';
import { RoaClient } from './roa.ts';
import { RpcClient } from './rpc.ts';

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

export function createCloud(options: CloudOptions): Cloud {
  const credentials = options.credentials ?? credentialsFrom();
  const endpoint = (p: Product) => endpointFor(p, options);
  const common = {
    credentials,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const rpc = (service: Product, apiVersion: string) =>
    new RpcClient({ service, endpoint: endpoint(service), apiVersion, ...common });
  return {
    rds: new RdsAdapter(rpc('rds', '2014-08-15'), options.region),
    ecs: new EcsAdapter(rpc('ecs', '2014-05-26'), options.region),
    ess: new EssAdapter(rpc('ess', '2014-08-28'), options.region),
    ack: new AckAdapter(
      new RoaClient({ service: 'cs', endpoint: endpoint('cs'), apiVersion: '2015-12-15', ...common }),
    ),
    mail: new DirectMailAdapter(rpc('dm', '2015-11-23')),
    fc: new FcClient({ endpoint: endpoint('fc'), ...common }),
    oss: new OssClient({ endpoint: endpoint('oss'), region: options.region, ...common }),
  };
}
