import { randomUUID } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import type { Logger } from '../runtime/logger.ts';
import type { CredentialSource } from './credentials.ts';
import { CloudError, NetworkError } from './errors.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.ts';

export interface ClientConfig {
  service: string;
  endpoint: string;
  apiVersion: string;
  credentials: CredentialSource;
  /** Per attempt. The SDK's 3 s default is too short for Describe calls on big accounts. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  log?: Logger;
}

export interface CallOptions {
  /** Send a ClientToken (one per logical call, the same on every retry) so a retry is not done twice. */
  clientToken?: boolean;
  timeoutMs?: number;
}

type PopError = Error & {
  code?: string;
  data?: { RequestId?: string; Message?: string; Code?: string };
  entry?: { response?: { statusCode?: number; headers?: Record<string, string> } };
};

/** An RPC-style API (ECS, RDS, ESS, DirectMail) over @alicloud/pop-core, with timeouts and retries. */
export class RpcClient {
  private readonly client: RPCClient;

  constructor(private readonly config: ClientConfig) {
    this.client = new RPCClient({
      endpoint: config.endpoint,
      apiVersion: config.apiVersion,
      accessKeyId: '',
      accessKeySecret: '',
      // pop-core asks before every request: rotated STS credentials are used as soon as FC rotates them.
      credentialsProvider: { getCredentials: config.credentials },
    } as RPCClient.Config);
  }

  async call<T>(action: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    const body: Record<string, unknown> = Object.fromEntries(
      Object.entries(params).filter(([, v]) => v !== undefined),
    );
    if (options.clientToken && body.ClientToken === undefined) body.ClientToken = randomUUID();
    const timeout = options.timeoutMs ?? this.config.timeoutMs ?? 15_000;
    return withRetry(
      async () => {
        try {
          return await this.client.request<T>(action, body, { method: 'POST', timeout });
        } catch (error) {
          throw toError(this.config.service, action, error as PopError);
        }
      },
      this.config.retry ?? DEFAULT_RETRY,
      (attempt, delayMs, error) =>
        this.config.log?.warn('cloud call retried', {
          service: this.config.service,
          action,
          attempt,
          delayMs,
          code: error.upstreamCode,
        }),
    );
  }
}

function toError(service: string, action: string, error: PopError): Error {
  if (error.data && (error.code || error.data.Code)) {
    const retryAfter = Number(error.entry?.response?.headers?.['x-acs-retry-after']);
    return new CloudError(service, action, {
      code: error.code ?? error.data.Code,
      message: error.data.Message ?? error.message.split(', URL:')[0],
      ...(error.data.RequestId ? { requestId: error.data.RequestId } : {}),
      ...(error.entry?.response?.statusCode ? { status: error.entry.response.statusCode } : {}),
      // x-acs-retry-after is in seconds.
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    });
  }
  return new NetworkError(service, action, error);
}
