import { UpstreamError } from '../runtime/errors.ts';
import { redactString } from '../runtime/redact.ts';

/** Codes a retry can fix: throttling and the service's own trouble. */
export function isRetryableCode(code: string | undefined, status: number | undefined): boolean {
  if (
    code &&
    (/^Throttling/.test(code) ||
      code === 'Rejected.Throttling' ||
      /(Qps|Traffic|Request)(Rate)?LimitExceeded$/.test(code) ||
      code === 'ServiceUnavailable' ||
      code === 'InternalError')
  ) {
    return true;
  }
  if (
    code &&
    /^(SignatureDoesNotMatch|InvalidAccessKeyId|Missing|InvalidParameter|InvalidApi|InvalidTimeStamp|SignatureNonceUsed|Forbidden|.*\.NotFound$)/.test(
      code,
    )
  ) {
    return false;
  }
  return status !== undefined && status >= 500;
}

/** A failed Alibaba Cloud call: its Code, RequestId and HTTP status; nothing secret in the message. */
export class CloudError extends UpstreamError {
  override name = 'CloudError';
  readonly action: string;

  constructor(
    service: string,
    action: string,
    details: {
      code?: string | undefined;
      message?: string | undefined;
      requestId?: string;
      status?: number;
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    const message = redactString(
      `${action} failed${details.code ? ` with ${details.code}` : ''}: ${details.message ?? 'no message'}${details.requestId ? ` (RequestId ${details.requestId})` : ''}`,
    );
    super(service, message, {
      ...(details.code ? { code: details.code } : {}),
      ...(details.requestId ? { requestId: details.requestId } : {}),
      ...(details.status !== undefined ? { status: details.status } : {}),
      retryable: isRetryableCode(details.code, details.status),
    });
    this.action = action;
    this.retryAfterMs = details.retryAfterMs;
  }

  readonly retryAfterMs: number | undefined;
}

/** Network failures and timeouts: retryable, no code from the service. */
export class NetworkError extends UpstreamError {
  override name = 'NetworkError';
  constructor(service: string, action: string, cause: unknown) {
    const reason =
      cause instanceof Error
        ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}`
        : String(cause);
    super(service, redactString(`${action} did not complete (${reason})`), {
      retryable: true,
      code: 'NetworkError',
    });
  }
}
