import popCore from '@alicloud/pop-core';
import { CloudError, NetworkError } from './errors.ts';
import { DEFAULT_RETRY, withRetry } from './retry.ts';
import type { ClientConfig } from './rpc.ts';

interface RoaClientLike {
  request<T>(
    method: string,
    path: string,
    query: object,
    body: string,
    headers: object,
    opts: object,
  ): Promise<T>;
}
type RoaCtor = new (config: object) => RoaClientLike;

type RoaError = Error & {
  code?: string;
  statusCode?: number;
  result?: {
    requestId?: string;
    RequestId?: string;
    message?: string;
    Message?: string;
    code?: string;
    Code?: string;
  };
};

/** A ROA-style (RESTful) API, here ACK/Container Service, over pop-core's ROAClient. */
export class RoaClient {
  private readonly client: RoaClientLike;

  constructor(private readonly config: ClientConfig) {
    const Roa = (popCore as unknown as { ROAClient: RoaCtor }).ROAClient;
    this.client = new Roa({
      endpoint: config.endpoint,
      apiVersion: config.apiVersion,
      accessKeyId: 'provider',
      accessKeySecret: 'provider',
      credentialsProvider: { getCredentials: config.credentials },
    });
  }

  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: { query?: Record<string, string>; body?: unknown; action?: string } = {},
  ): Promise<T> {
    const action = options.action ?? `${method} ${path}`;
    const body = options.body === undefined ? '' : JSON.stringify(options.body);
    const headers = options.body === undefined ? {} : { 'content-type': 'application/json' };
    return withRetry(async () => {
      try {
        return await this.client.request<T>(method, path, options.query ?? {}, body, headers, {
          timeout: this.config.timeoutMs ?? 15_000,
        });
      } catch (error) {
        const e = error as RoaError;
        if (e.statusCode !== undefined) {
          const r = e.result ?? {};
          throw new CloudError(this.config.service, action, {
            code: e.code || r.code || r.Code || `HTTP${e.statusCode}`,
            message: r.message ?? r.Message ?? e.message,
            ...((r.requestId ?? r.RequestId) ? { requestId: (r.requestId ?? r.RequestId)! } : {}),
            status: e.statusCode,
          });
        }
        throw new NetworkError(this.config.service, action, error);
      }
    }, this.config.retry ?? DEFAULT_RETRY);
  }
}
