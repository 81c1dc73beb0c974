import { ApiError } from './api-error.ts';

/** Per action (or `*`): a share of throttled and failing calls, a number of next calls to fail, added latency. */
export interface FaultSpec {
  throttleRate?: number;
  errorRate?: number;
  /** Fail exactly the next N calls (deterministic, for tests). */
  failNext?: number;
  failWith?: 'throttle' | 'error' | 'unavailable';
  /** Do the next N calls, then answer 503 as if the response was lost on the way back. */
  loseResponseNext?: number;
  latencyMs?: number;
  /** OSS PutObject: the next N objects are stored with a byte changed, as silent corruption at rest would leave them. */
  corruptNext?: number;
}

export class Faults {
  private readonly specs = new Map<string, FaultSpec>();
  private readonly regionsDown = new Set<string>();

  /** A whole region fails (every call to it answers 503), or comes back. */
  setRegion(region: string, down: boolean): void {
    if (down) this.regionsDown.add(region);
    else this.regionsDown.delete(region);
  }

  /** Throw as an unavailable region answers, when `region` is down. */
  applyRegion(region: string, style: ErrorStyle = 'pop'): void {
    if (this.regionsDown.has(region)) throw errorOf('unavailable', style);
  }

  constructor(private readonly random: () => number = Math.random) {}

  set(action: string, spec: FaultSpec): void {
    this.specs.set(action, { ...spec });
  }

  clear(): void {
    this.specs.clear();
    this.regionsDown.clear();
  }

  afterRun(action: string, style: ErrorStyle = 'pop'): void {
    const spec = this.specs.get(action) ?? this.specs.get('*');
    if (spec?.loseResponseNext && spec.loseResponseNext > 0) {
      spec.loseResponseNext--;
      throw errorOf('unavailable', style);
    }
  }

  list(): Record<string, FaultSpec | string[]> {
    return {
      ...Object.fromEntries(this.specs),
      ...(this.regionsDown.size ? { regionsDown: [...this.regionsDown].sort() } : {}),
    };
  }

  /** Whether this call's stored object is to be corrupted (counts down `corruptNext`). */
  takeCorruption(action: string): boolean {
    const spec = this.specs.get(action);
    if (!spec?.corruptNext) return false;
    spec.corruptNext--;
    return true;
  }

  /** Wait and/or throw as configured for `action`, with the errors of that kind of API. */
  async apply(action: string, style: ErrorStyle = 'pop'): Promise<void> {
    const spec = this.specs.get(action) ?? this.specs.get('*');
    if (!spec) return;
    if (spec.latencyMs) await new Promise((r) => setTimeout(r, spec.latencyMs));
    if (spec.failNext && spec.failNext > 0) {
      spec.failNext--;
      throw errorOf(spec.failWith ?? 'throttle', style);
    }
    if (spec.throttleRate && this.random() < spec.throttleRate) throw errorOf('throttle', style);
    if (spec.errorRate && this.random() < spec.errorRate) throw errorOf('error', style);
  }
}

/** OpenAPI products (RPC, ROA, FC) answer faults one way, OSS another. */
type ErrorStyle = 'pop' | 'oss';

function errorOf(kind: 'throttle' | 'error' | 'unavailable', style: ErrorStyle): ApiError {
  // OSS throttles with 503 (its "HTTP status code 503" page: TotalQpsLimitExceeded, ServiceUnavailable).
  if (style === 'oss') {
    if (kind === 'throttle')
      return new ApiError(503, 'TotalQpsLimitExceeded', 'Max total qps limit is exceeded');
    if (kind === 'unavailable')
      return new ApiError(503, 'ServiceUnavailable', 'Thread pool is almost full, please retry later');
    return new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  if (kind === 'throttle')
    return new ApiError(400, 'Throttling.User', 'Request was denied due to user flow control.');
  if (kind === 'unavailable')
    return new ApiError(
      503,
      'ServiceUnavailable',
      'The request has failed due to a temporary failure of the server.',
    );
  return new ApiError(
    500,
    'InternalError',
    'The request processing has failed due to some unknown error, exception or failure.',
  );
}
