import type { UpstreamError } from '../runtime/errors.ts';
import type { CredentialSource } from './credentials.ts';
import { CloudError, NetworkError } from './errors.ts';
import { type Exchange, exchange, type ResponseHeaders } from './http-exchange.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.ts';

export interface SignedRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface SignedResponse {
  status: number;
  headers: ResponseHeaders;
  body: Buffer;
}

/** The headers to send; or headers and the body, when the signature travels in the body (RPC forms). */
export type Signer = (
  request: Required<SignedRequest>,
  credentials: Awaited<ReturnType<CredentialSource>>,
  url: URL,
) => Record<string, string> | { headers: Record<string, string>; body: Buffer };

/**
 * One signed HTTP exchange with timeout and retries, for every API fc-devops calls: RPC and ROA
 * (`rpc-sign.ts`), FC 3.0 (ACS3) and OSS (V4). Error bodies in JSON (`Code`/`Message`) or XML (`<Code>`) are read.
 */
export async function signedFetch(
  config: {
    service: string;
    endpoint: string;
    credentials: CredentialSource;
    timeoutMs?: number;
    retry?: RetryPolicy;
    onRetry?: (attempt: number, delayMs: number, error: UpstreamError) => void;
  },
  action: string,
  request: SignedRequest,
  sign: Signer,
): Promise<SignedResponse> {
  const base = new URL(config.endpoint);
  const req: Required<SignedRequest> = {
    method: request.method,
    path: `${base.pathname.replace(/\/+$/, '')}${request.path}`,
    query: request.query ?? {},
    headers: request.headers ?? {},
    body: request.body ?? Buffer.alloc(0),
  };
  return withRetry(
    async () => {
      const url = new URL(req.path, base);
      for (const [k, v] of Object.entries(req.query)) url.searchParams.set(k, v);
      // OSS sub-resources without a value are written bare (`?uploads`), as OSS documents them.
      if (config.service === 'oss') url.search = url.search.replace(/=(?=&|$)/g, '');
      const signed = sign(req, await config.credentials(), url);
      const [headers, payload] =
        'body' in signed && Buffer.isBuffer(signed.body)
          ? [signed.headers as Record<string, string>, signed.body]
          : [signed as Record<string, string>, req.body];
      let response: Exchange;
      try {
        response = await exchange(url, {
          method: req.method,
          // The signed host is the URL's; node:http writes it from the URL.
          headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'host')),
          ...(payload.length > 0 || !['GET', 'HEAD'].includes(req.method) ? { body: payload } : {}),
          timeoutMs: config.timeoutMs ?? 15_000,
        });
      } catch (error) {
        throw new NetworkError(config.service, action, error);
      }
      const { body } = response;
      if (response.status >= 200 && response.status < 300)
        return { status: response.status, headers: response.headers, body };
      const text = body.toString('utf8');
      let code: string | undefined;
      let message: string | undefined;
      let requestId: string | undefined =
        response.headers.get('x-fc-request-id') ?? response.headers.get('x-oss-request-id') ?? undefined;
      try {
        const json = JSON.parse(text) as Record<string, string>;
        code = json.Code ?? json.code ?? json.ErrorCode;
        message = json.Message ?? json.message ?? json.ErrorMessage;
        requestId = json.RequestId ?? json.requestId ?? requestId;
      } catch {
        code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
        message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
        requestId = /<RequestId>([^<]*)<\/RequestId>/.exec(text)?.[1] ?? requestId;
      }
      const retryAfter = Number(response.headers.get('x-acs-retry-after'));
      throw new CloudError(config.service, action, {
        code: code ?? `HTTP${response.status}`,
        message: message ?? (text.slice(0, 200) || response.statusText),
        ...(requestId ? { requestId } : {}),
        status: response.status,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      });
    },
    config.retry ?? DEFAULT_RETRY,
    config.onRetry,
  );
}
