import type * as z from 'zod/mini';
import {
  type HttpRequest,
  type HttpResponse,
  isHttpEvent,
  isHttpResponse,
  json,
  parseHttpEvent,
} from '../events/http.ts';
import { isJobMessage, type JobMessage, MAX_JOB_BYTES, parseJob } from '../events/job.ts';
import { isOssEvent, type OssEvent, parseOssEvent } from '../events/oss.ts';
import { decodeJson } from '../events/parse.ts';
import { isTimerEvent, parseTimerEvent, type TimerInput } from '../events/timer.ts';
import { sha256Hex } from '../util/hash.ts';
import { own } from '../util/records.ts';
import type { FcContext } from './context.ts';
import {
  CancelledError,
  ConflictError,
  FcDevopsError,
  formatPath,
  KeyReuseError,
  ParseError,
  UpstreamError,
} from './errors.ts';
import { type Instance, type InstanceOptions, instance } from './instance.ts';
import { createLogger, type Logger } from './logger.ts';
import { type Busy, type OnceOptions, type OnceResult, type RunHandle, runOnce } from './once.ts';

export type EventSource = 'http' | 'timer' | 'oss' | 'job';

/**
 * What every handler gets besides its input: what is built once per instance (`config`, `store`,
 * `cloud`, `events`) and what belongs to this invocation (its logger, ids, clock and `once`).
 */
export interface HandlerContext extends Instance {
  fc: FcContext;
  log: Logger;
  requestId: string;
  correlationId: string;
  source: EventSource;
  now: () => Date;
  /**
   * Do `work` once per event: keyed by the delivery (job idempotency key, timer name and time, OSS
   * bucket/key/eTag, the caller's Idempotency-Key), with a run record it can log to.
   */
  once<T>(
    work: (run: RunHandle) => Promise<T>,
    options: OnceOptions & { whenBusy: 'report' },
  ): Promise<OnceResult<T> | Busy>;
  once<T>(
    work: (run: RunHandle) => Promise<T>,
    options?: OnceOptions & { whenBusy?: 'conflict' },
  ): Promise<OnceResult<T>>;
  once<T>(work: (run: RunHandle) => Promise<T>, options: OnceOptions): Promise<OnceResult<T> | Busy>;
}

export interface JobRoute<S extends z.ZodMiniType> {
  payload: S;
  run: (payload: z.infer<S>, job: JobMessage<z.infer<S>>, ctx: HandlerContext) => Promise<unknown>;
}

/** Declare one job kind with its payload schema (keeps the payload type inferred). */
export function jobRoute<S extends z.ZodMiniType>(payload: S, run: JobRoute<S>['run']): JobRoute<S> {
  return { payload, run };
}

export interface HandlerSpec<TP extends z.ZodMiniType = z.ZodMiniType> extends InstanceOptions {
  http?: (request: HttpRequest, ctx: HandlerContext) => Promise<HttpResponse>;
  timer?: { payload?: TP; run: (input: TimerInput<z.infer<TP>>, ctx: HandlerContext) => Promise<unknown> };
  oss?: (event: OssEvent, ctx: HandlerContext) => Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: each route keeps its own payload type
  jobs?: Readonly<Record<string, JobRoute<any>>>;
}

export type FcHandler = (event: Buffer | string, context: FcContext) => Promise<unknown>;

/**
 * The FC entry point of a function: decode the Buffer, recognise the event source, parse it through
 * its envelope, run, and answer in the shape the trigger expects. Bad input is a ParseError: HTTP gets
 * a 400 naming the field; async and timer events are logged and acknowledged, never retried forever.
 * Other errors answer 409/422/502/500 over HTTP and are rethrown for async events so FC retries them.
 * Called at module top level: the config is read (and a broken one fails the instance) at cold start.
 */
export function defineHandler<TP extends z.ZodMiniType>(spec: HandlerSpec<TP>): FcHandler {
  const accepted = (['http', 'timer', 'oss', 'jobs'] as const).filter((s) => spec[s] !== undefined);
  const shared = instance(spec);

  return async (event, fc) => {
    const base = createLogger({ function: fc.function?.name, requestId: fc.requestId });
    const bytes = typeof event === 'string' ? Buffer.byteLength(event) : event.length;
    shared.enter(fc, base);
    let source: EventSource | undefined;
    try {
      const value = decodeJson(event);
      source = detect(value);
      if (source === 'http' && spec.http) {
        const request = parseHttpEvent(value);
        const correlationId = request.headers['x-correlation-id'] ?? request.requestId;
        const key = request.headers['idempotency-key'];
        // The key is bound to what the request asks: method, path, query and body.
        const asked = () =>
          sha256Hex(
            `${request.method} ${request.path}?${new URLSearchParams(request.query)}\n${sha256Hex(request.body)}`,
          );
        const ctx = context(shared, spec, fc, base, 'http', correlationId, key && `http:${key}`, asked);
        return await respondHttp(() => spec.http!(request, ctx), ctx.log);
      }
      if (source === 'timer' && spec.timer) {
        const input = parseTimerEvent(value, spec.timer.payload);
        const key = `timer:${input.triggerName}:${input.triggerTime.toISOString()}`;
        const asked = () => sha256Hex(JSON.stringify(input.payload ?? null));
        return await spec.timer.run(
          input,
          context(shared, spec, fc, base, 'timer', fc.requestId, key, asked),
        );
      }
      if (source === 'oss' && spec.oss) {
        const event = parseOssEvent(value);
        const objects = event.events.map(
          (e) => `${e.oss.bucket.name}/${e.oss.object.key}@${e.oss.object.eTag ?? e.eventTime}`,
        );
        const key = `oss:${sha256Hex(objects.join('\n'))}`;
        return await spec.oss(
          event,
          context(shared, spec, fc, base, 'oss', fc.requestId, key, () => key),
        );
      }
      if (source === 'job' && spec.jobs) {
        if (bytes > MAX_JOB_BYTES) {
          throw new ParseError('job message', [
            { path: [], message: `${bytes} bytes; at most ${MAX_JOB_BYTES}` },
          ]);
        }
        const schemas = Object.fromEntries(Object.entries(spec.jobs).map(([k, r]) => [k, r.payload]));
        const job = parseJob(value, schemas);
        const ctx = context(
          shared,
          spec,
          fc,
          base,
          'job',
          job.correlationId,
          `job:${job.idempotencyKey}`,
          () => sha256Hex(`${job.kind}\n${JSON.stringify(job.payload)}`),
          job.kind,
          job.attempt,
        );
        return await own(spec.jobs, job.kind)!.run(job.payload, job, ctx);
      }
      throw new ParseError('event', [
        { path: [], message: `not an event this function accepts (accepts: ${accepted.join(', ')})` },
      ]);
    } catch (error) {
      if (error instanceof ParseError) {
        // Acknowledge: the same bytes would fail the same way on every retry.
        base.error('event rejected', { source, error: error.message, issues: issueList(error) });
        if (source === 'http') {
          return json(400, { error: error.code, message: error.message, issues: issueList(error) });
        }
        return { status: 'rejected', error: error.code, issues: issueList(error) };
      }
      if (error instanceof FcDevopsError && !error.retryable && source !== 'http') {
        // Retrying cannot fix it (a missing instance, a bad config): record and acknowledge.
        base.error('event failed, not retried', { source, error: describe(error) });
        return { status: 'failed', error: error.code, message: error.message };
      }
      base.error('invocation failed', { source, error: describe(error) });
      throw error;
    }
  };
}

function memo<T>(work: () => T): () => T {
  let done: { value: T } | undefined;
  return () => {
    done ??= { value: work() };
    return done.value;
  };
}

function detect(value: unknown): EventSource | undefined {
  if (isHttpEvent(value)) return 'http';
  if (isTimerEvent(value)) return 'timer';
  if (isOssEvent(value)) return 'oss';
  if (isJobMessage(value)) return 'job';
  return undefined;
}

function context(
  shared: ReturnType<typeof instance>,
  spec: HandlerSpec,
  fc: FcContext,
  base: Logger,
  source: EventSource,
  correlationId: string,
  eventKey: string | undefined,
  asked: () => string,
  kind = fc.function?.name ?? 'function',
  attempt = (fc.retryCount ?? 0) + 1,
): HandlerContext {
  const log = base.child({ correlationId });
  const deps = {
    store: shared.openStore,
    fc,
    log,
    correlationId,
    eventKey,
    eventPayloadSha256: memo(asked),
    kind,
    attempt,
  };
  return Object.assign(Object.create(shared.view) as Instance, {
    fc,
    log,
    requestId: fc.requestId,
    correlationId,
    source,
    now: spec.now ?? (() => new Date()),
    once: (work: (run: RunHandle) => Promise<unknown>, options: OnceOptions = {}) =>
      runOnce(deps, options, work),
  }) as HandlerContext;
}

/** Map errors to HTTP answers at the edge; internal details never leak on a 5xx. */
async function respondHttp(run: () => Promise<HttpResponse>, log: Logger): Promise<HttpResponse> {
  try {
    const response = await run();
    return isHttpResponse(response) ? response : json(200, response);
  } catch (error) {
    if (error instanceof ParseError) {
      log.warn('request rejected', { error: error.message });
      return json(400, { error: error.code, message: error.message, issues: issueList(error) });
    }
    if (error instanceof ConflictError || error instanceof CancelledError) {
      log.warn('request conflicts', { error: error.message });
      const state = error instanceof ConflictError ? (error.state ?? null) : null;
      return json(409, { error: error.code, message: error.message, state });
    }
    if (error instanceof KeyReuseError) {
      log.warn('idempotency key reused', { error: error.message });
      return json(422, { error: 'IdempotencyKeyReused', message: error.message, key: error.key });
    }
    log.error('request failed', { error: describe(error) });
    if (error instanceof UpstreamError) {
      return json(502, {
        error: error.code,
        message: `${error.service} failed`,
        upstreamCode: error.upstreamCode ?? null,
      });
    }
    return json(500, {
      error: 'InternalError',
      message: 'internal error; see the function log for this request',
    });
  }
}

function issueList(error: ParseError) {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

function describe(error: unknown) {
  if (error instanceof FcDevopsError) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}
