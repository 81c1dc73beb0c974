import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from './journal.ts';

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

/** What the queue's journal holds: a message as it now is, a message that ended, a task id used. */
type Entry = { put: AsyncMessage } | { done: string; taskId?: string } | { task: string };

/** Entries past this many more than the live messages, the journal is rewritten as a snapshot. */
const REWRITE_AFTER = 5000;

/**
 * FC's async invocation queue, durable on disk: a message is on disk (written and synced) before the
 * caller gets its 202, survives a restart (a message that was running when the process died runs
 * again: at least once), is retried `maxAsyncRetryAttempts` times with exponential backoff, expires
 * after `maxAsyncEventAgeInSeconds`, and ends in the success or failure destination. The disk is a
 * journal with group commit: a burst of enqueues shares its writes and syncs.
 */
export class AsyncQueue {
  private readonly dir: string;
  private readonly journal: Journal;
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
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.journal = new Journal(join(dir, 'queue.jsonl'));
  }

  /**
   * Load what was queued before a restart and start dispatching; with `dispatch: false` messages are
   * taken and kept on disk but not run (the webhook bench: on FC, jobs run on other instances).
   */
  start(options: { dispatch?: boolean } = {}): void {
    this.paused = options.dispatch === false;
    this.messages.clear();
    for (const entry of [...this.legacyEntries(), ...(this.journal.read() as Entry[])]) {
      if ('put' in entry) {
        this.messages.set(entry.put.requestId, entry.put);
        if (entry.put.taskId) this.taskIds.add(entry.put.taskId);
      } else if ('done' in entry) {
        this.messages.delete(entry.done);
        if (entry.taskId) this.taskIds.add(entry.taskId);
      } else if ('task' in entry) {
        this.taskIds.add(entry.task);
      }
    }
    // What was running when the process stopped runs again.
    for (const message of this.messages.values()) message.status = 'queued';
    this.journal.rewriteSync(this.snapshot());
    rmSync(join(this.dir, 'pending'), { recursive: true, force: true });
    rmSync(join(this.dir, 'done'), { recursive: true, force: true });
    this.stopped = false;
    this.schedule(0);
  }

  /** A state directory from before the journal: a file per pending message, one per finished task. */
  private legacyEntries(): Entry[] {
    const entries: Entry[] = [];
    const pending = join(this.dir, 'pending');
    if (existsSync(pending))
      for (const file of readdirSync(pending).filter((f) => f.endsWith('.json'))) {
        try {
          entries.push({ put: JSON.parse(readFileSync(join(pending, file), 'utf8')) as AsyncMessage });
        } catch {
          // Unreadable: skipped, as before.
        }
      }
    const done = join(this.dir, 'done');
    if (existsSync(done))
      for (const file of readdirSync(done)) {
        const taskId = /^task-(.+)\.json$/.exec(file)?.[1];
        if (taskId) entries.push({ task: decodeURIComponent(taskId) });
      }
    return entries;
  }

  private snapshot(): Entry[] {
    const live = new Set<string>();
    const entries: Entry[] = [];
    for (const message of this.messages.values()) {
      entries.push({ put: message });
      if (message.taskId) live.add(message.taskId);
    }
    for (const task of this.taskIds) if (!live.has(task)) entries.push({ task });
    return entries;
  }

  /** Resolves once the message is on disk: only then may the caller be told it was accepted. */
  async enqueue(input: {
    functionName: string;
    payload: Buffer;
    qualifier?: string;
    taskId?: string;
    source: string;
  }): Promise<AsyncMessage> {
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
    // Taken at once, so a second enqueue of the task id in the same burst is refused.
    this.messages.set(message.requestId, message);
    if (message.taskId) this.taskIds.add(message.taskId);
    try {
      await this.journal.append({ put: message } satisfies Entry);
    } catch (error) {
      this.messages.delete(message.requestId);
      if (message.taskId) this.taskIds.delete(message.taskId);
      throw error;
    }
    this.schedule(0);
    return message;
  }

  get(requestId: string): AsyncMessage | undefined {
    return this.messages.get(requestId) ?? this.readDone(requestId);
  }

  list(): AsyncMessage[] {
    return [...this.messages.values()];
  }

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
    } else {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    await this.journal.close();
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
    this.messages.delete(message.requestId);
    this.done.set(message.requestId, message);
    if (this.done.size > 1000) this.done.delete(this.done.keys().next().value!);
    await this.journal
      .append({
        done: message.requestId,
        ...(message.taskId ? { taskId: message.taskId } : {}),
      } satisfies Entry)
      .catch(() => {}); // not on disk: it runs again after a restart, as FC's at-least-once allows
    if (this.journal.length > this.messages.size + REWRITE_AFTER)
      await this.journal.rewrite(() => this.snapshot()).catch(() => {});
  }

  private readonly done = new Map<string, AsyncMessage>();

  private readDone(requestId: string): AsyncMessage | undefined {
    return this.done.get(requestId);
  }

  /** The message as it now is, in order with everything else (an attempt counted, a retry due). */
  private persist(message: AsyncMessage): void {
    void this.journal.append({ put: message } satisfies Entry).catch(() => {});
  }
}
