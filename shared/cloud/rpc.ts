import type { Logger } from '../runtime/logger.ts';
import type { CredentialSource } from './credentials.ts';
import { CloudError } from './errors.ts';
import type { RetryPolicy } from './retry.ts';
import { signRpcForm } from './rpc-sign.ts';
import { signedFetch } from './signed-http.ts';

export interface ClientConfig {
  service: string;
  endpoint: string;
  apiVersion: string;
  credentials: CredentialSource;
  /** Per attempt: Describe calls on big accounts take longer than the official SDK's 3 s default. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  log?: Logger;
}

export interface CallOptions {
  /** Send a ClientToken (one per logical call, the same on every retry) so a retry is not done twice. */
  clientToken?: boolean;
  timeoutMs?: number;
}

/**
 * An RPC-style API (ECS, RDS, ESS, DirectMail): a form POST signed with signature V2
 * (`rpc-sign.ts`, checked against the official SDKs' test vectors), with timeouts and retries.
 * Credentials are asked for on every attempt, so rotated STS tokens are used as soon as FC rotates them.
 */
export class RpcClient {
  constructor(private readonly config: ClientConfig) {}

  async call<T>(action: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    const body: Record<string, unknown> = Object.fromEntries(
      Object.entries(params).filter(([, v]) => v !== undefined),
    );
    if (options.clientToken && body.ClientToken === undefined) body.ClientToken = crypto.randomUUID();
    const { service, apiVersion } = this.config;
    const response = await signedFetch(
      {
        service,
        endpoint: this.config.endpoint,
        credentials: this.config.credentials,
        timeoutMs: options.timeoutMs ?? this.config.timeoutMs ?? 15_000,
        ...(this.config.retry ? { retry: this.config.retry } : {}),
        onRetry: (attempt, delayMs, error) =>
          this.config.log?.warn('cloud call retried', {
            service,
            action,
            attempt,
            delayMs,
            code: error.upstreamCode,
          }),
      },
      action,
      { method: 'POST', path: '/' },
      (_req, credentials) => ({
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-acs-action': action,
          'x-acs-version': apiVersion,
        },
        // Signed on every attempt: each needs a fresh nonce and timestamp.
        body: Buffer.from(signRpcForm(action, apiVersion, body, credentials), 'utf8'),
      }),
    );
    const json = JSON.parse(response.body.toString('utf8') || '{}') as T & {
      Code?: string;
      Message?: string;
      RequestId?: string;
    };
    // Some RPC APIs answer 200 with an error code in the body.
    if (json.Code && !/^(200|OK|Success)$/i.test(json.Code))
      throw new CloudError(service, action, {
        code: json.Code,
        message: json.Message ?? json.Code,
        ...(json.RequestId ? { requestId: json.RequestId } : {}),
        status: response.status,
      });
    return json;
  }
}
