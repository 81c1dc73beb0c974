import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One queued async invocation, as kept on disk. */
export interface AsyncMessage {
  requestId: string;
  taskId: string | undefined;
  functionName: string;
  qualifier: string;
  source: string;
  /** The payload, base64. */
  payload: string;
  enqueuedAt: number;
  /** Invocations tried so far. */
  attempts: number;
  nextAttemptAt: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  lastError?: { errorMessage: string; errorType: string } | undefined;
  result?: string | undefined;
  finishedAt?: number | undefined;
}

export interface AttemptOutcome {
  ok: boolean;
  /** What the function returned, or the error payload, as text. */
  response: string;
  error?: { errorMessage: string; errorType: string };
}

export interface QueuePolicy {
  maxAsyncRetryAttempts: number;
  maxAsyncEventAgeInSeconds: number;
}

export interface QueueHooks {
  /** Run one attempt of a message. */
  run(message: AsyncMessage): Promise<AttemptOutcome>;
  policy(functionName: string): QueuePolicy | undefined;
  /** A message reached its end; destinations are delivered from here. */
  finished(message: AsyncMessage, condition: string, outcome: AttemptOutcome | undefined): Promise<void>;
}

export class DuplicateTaskError extends Error {
  override name = 'DuplicateTaskError';
}

/**
 * FC's async invocation queue, durable on disk: a message is written before the caller gets its 202,
 * survives a restart (a message that was running when the process died runs again: at least once),
 * is retried `maxAsyncRetryAttempts` times with exponential backoff, expires after
 * `maxAsyncEventAgeInSeconds`, and ends in the success or failure destination.
 */
export class AsyncQueue {
  private readonly pendingDir: string;
  private readonly doneDir: string;
  private readonly messages = new Map<string, AsyncMessage>();
  private readonly taskIds = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private stopped = true;

  constructor(
    dir: string,
    private readonly hooks: QueueHooks,
    private readonly retryBaseMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.pendingDir = join(dir, 'pending');
    this.doneDir = join(dir, 'done');
    mkdirSync(this.pendingDir, { recursive: true });
    mkdirSync(this.doneDir, { recursive: true });
  }

  /**
   * Load what was queued before a restart and start dispatching; with `dispatch: false` messages are
   * taken and kept on disk but not run (the webhook bench: on FC, jobs run on other instances).
   */
  start(options: { dispatch?: boolean } = {}): void {
    this.paused = options.dispatch === false;
    for (const file of readdirSync(this.pendingDir)) {
      if (!file.endsWith('.json')) continue;
      try {
        const message = JSON.parse(readFileSync(join(this.pendingDir, file), 'utf8')) as AsyncMessage;
        message.status = 'queued';
        this.messages.set(message.requestId, message);
        if (message.taskId) this.taskIds.add(message.taskId);
      } catch {
        // A torn write from a crash mid-rename cannot happen (rename is atomic); anything else unreadable is skipped.
      }
    }
    for (const file of readdirSync(this.doneDir)) {
      const taskId = /^task-(.+)\.json$/.exec(file)?.[1];
      if (taskId) this.taskIds.add(decodeURIComponent(taskId));
    }
    this.stopped = false;
    this.schedule(0);
  }

  enqueue(input: {
    functionName: string;
    payload: Buffer;
    qualifier?: string;
    taskId?: string;
    source: string;
  }): AsyncMessage {
    if (input.taskId && this.taskIds.has(input.taskId)) {
      throw new DuplicateTaskError(`async task ${input.taskId} already exists`);
    }
    const now = this.now();
    const message: AsyncMessage = {
      requestId: randomUUID(),
      taskId: input.taskId,
      functionName: input.functionName,
      qualifier: input.qualifier ?? 'LATEST',
      source: input.source,
      payload: input.payload.toString('base64'),
      enqueuedAt: now,
      attempts: 0,
      nextAttemptAt: now,
      status: 'queued',
    };
    this.persist(message);
    this.messages.set(message.requestId, message);
    if (message.taskId) this.taskIds.add(message.taskId);
    this.schedule(0);
    return message;
  }

  get(requestId: string): AsyncMessage | undefined {
    return this.messages.get(requestId) ?? this.readDone(requestId);
  }

  list(): AsyncMessage[] {
    return [...this.messages.values()];
  }

  /** Stop dispatching and wait for the attempts in flight; what is queued stays on disk. */
  /**
   * Dispatch nothing more and wait for what runs, at most `graceMs`: a long job (a backup waiting
   * for its task) must not hold a shutdown. What is still running then stays in the durable queue
   * and runs again after a restart, as FC delivers async events at least once.
   */
  async stop(graceMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const settled = Promise.allSettled([...this.running]);
    if (!Number.isFinite(graceMs)) {
      await settled;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.paused) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.dispatch(), Math.max(0, Math.min(delayMs, 2 ** 31 - 1)));
  }

  private dispatch(): void {
    if (this.stopped) return;
    const now = this.now();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const message of this.messages.values()) {
      if (message.status !== 'queued') continue;
      if (message.nextAttemptAt > now) {
        nextDue = Math.min(nextDue, message.nextAttemptAt);
        continue;
      }
      message.status = 'running';
      const attempt = this.attempt(message).finally(() => this.running.delete(attempt));
      this.running.add(attempt);
    }
    if (nextDue !== Number.POSITIVE_INFINITY) this.schedule(nextDue - now);
  }

  private async attempt(message: AsyncMessage): Promise<void> {
    const policy = this.hooks.policy(message.functionName);
    if (!policy) {
      await this.finish(message, 'failed', 'FunctionNotFound', undefined);
      return;
    }
    if (this.now() - message.enqueuedAt > policy.maxAsyncEventAgeInSeconds * 1000) {
      await this.finish(message, 'failed', 'MaxEventAgeExceeded', undefined);
      return;
    }
    message.attempts++;
    this.persist(message);
    let outcome: AttemptOutcome;
    try {
      outcome = await this.hooks.run(message);
    } catch (error) {
      outcome = {
        ok: false,
        response: String(error),
        error: { errorMessage: String(error), errorType: 'RuntimeError' },
      };
    }
    if (this.stopped && !outcome.ok) {
      // Shutting down: leave the message queued on disk for the next start.
      message.status = 'queued';
      message.attempts--;
      this.persist(message);
      return;
    }
    if (outcome.ok) {
      await this.finish(message, 'succeeded', 'Success', outcome);
      return;
    }
    message.lastError = outcome.error;
    if (message.attempts > policy.maxAsyncRetryAttempts) {
      await this.finish(
        message,
        'failed',
        outcome.error?.errorType === 'FunctionTimeoutError' ? 'FunctionTimeout' : 'UnhandledInvocationError',
        outcome,
      );
      return;
    }
    // FC's retry interval grows with each attempt; the base is short locally and in tests.
    message.status = 'queued';
    message.nextAttemptAt = this.now() + this.retryBaseMs * 2 ** (message.attempts - 1);
    this.persist(message);
    this.schedule(message.nextAttemptAt - this.now());
  }

  private async finish(
    message: AsyncMessage,
    status: 'succeeded' | 'failed',
    condition: string,
    outcome: AttemptOutcome | undefined,
  ): Promise<void> {
    message.status = status;
    message.finishedAt = this.now();
    message.result = outcome?.response;
    // Destinations first: if the process dies now, the message is still pending and runs again.
    await this.hooks.finished(message, condition, outcome);
    const name = message.taskId
      ? `task-${encodeURIComponent(message.taskId)}.json`
      : `${message.requestId}.json`;
    writeAtomic(join(this.doneDir, name), JSON.stringify(message));
    rmSync(join(this.pendingDir, `${message.requestId}.json`), { force: true });
    this.messages.delete(message.requestId);
    this.done.set(message.requestId, message);
    if (this.done.size > 1000) this.done.delete(this.done.keys().next().value!);
  }

  private readonly done = new Map<string, AsyncMessage>();

  private readDone(requestId: string): AsyncMessage | undefined {
    return this.done.get(requestId);
  }

  private persist(message: AsyncMessage): void {
    writeAtomic(join(this.pendingDir, `${message.requestId}.json`), JSON.stringify(message));
  }
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
