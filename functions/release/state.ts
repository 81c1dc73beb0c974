import type { Cloud } from '../../shared/cloud/cloud.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { channelKey } from '../../shared/images/build-job.ts';
import type { EventInput, Events } from '../../shared/notify/publish.ts';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Fence, Store } from '../../shared/store/port.ts';
import type { Reconciled } from './outcome.ts';

export type Target = Config['releases']['targets'][string];
export type AliasTarget = Extract<Target, { kind: 'fc-alias' }>;
export type ChannelTarget = Extract<Target, { kind: 'image-channel' }>;

/**
 * Who changes a target: an operator's access key, or fc-devops's own canary timer. Recorded as the
 * history's actor: a key id never contains a colon, so `timer:advance` cannot be a key.
 */
export type Actor =
  | { kind: 'operator'; key: string }
  | { kind: 'timer' }
  /** Another part of fc-devops acting on its own (a monitoring check that failed: `monitor:api`). */
  | { kind: 'system'; name: string };
export const operator = (key: string): Actor => ({ kind: 'operator', key });
export const TIMER: Actor = { kind: 'timer' };
export const actorName = (a: Actor) =>
  a.kind === 'operator' ? a.key : a.kind === 'system' ? a.name : 'timer:advance';

/** What every release operation works with, the fence of the target's lock among it. */
export interface ReleaseDeps {
  config: Config;
  store: Store;
  cloud: Cloud;
  /** The cloud in another region (image channels roll each region's copy there). */
  cloudIn: (region: string) => Cloud;
  events: Events;
  now: () => Date;
  log: Logger;
}

/** Deps of an operation that holds the target's lock: its writes carry the fence. */
export interface Locked extends ReleaseDeps {
  fence: Fence;
}

export const keys = {
  lock: (t: string) => `release:${t}`,
  state: (t: string) => `release:state:${t}`,
  history: (t: string) => `release:history:${t}`,
  frozen: (t: string) => `release:frozen:${t}`,
  channel: channelKey,
};

export interface Frozen {
  frozen: boolean;
  reason?: string | undefined;
  by: string;
}

/** One entry of a target's history of promotes and rollbacks. */
export interface HistoryRecord {
  action: 'promote' | 'rollback';
  from: unknown;
  to: unknown;
  reason?: string | undefined;
  automatic?: boolean;
  /** How a watched rollout (Kubernetes) ended. */
  outcome?: 'succeeded' | 'rolled-back' | 'paused' | 'failed';
  /** The Deployment revision it went to. */
  revision?: number;
}

export async function latest<V>(store: Store, key: string): Promise<V | undefined> {
  return (await store.readHistory<V>(key, { limit: 1 }))[0]?.value;
}

/** Append under the target's lock: refused once a newer holder took it over. */
export function write<V>(d: Locked, key: string, value: V, actor: Actor, note?: string) {
  return d.store.appendHistory(
    key,
    { value, actor: actorName(actor), ...(note ? { note } : {}) },
    { fence: d.fence },
  );
}

export async function frozenState(store: Store, name: string): Promise<Frozen | undefined> {
  const f = await latest<Frozen>(store, keys.frozen(name));
  return f?.frozen ? f : undefined;
}

/** People not hearing about a release must not undo the release. */
export async function tell(d: ReleaseDeps, event: EventInput): Promise<void> {
  try {
    await d.events.publish(event);
  } catch (error) {
    d.log.warn('event not published', { kind: event.kind, error: (error as Error).message });
  }
}

export type Busy = { kind: 'busy'; holder: string; until: string };

/**
 * The one lock every path that changes a target takes (promote, rollback, freeze, approval decisions,
 * the canary timer). The work gets the fence to pass to its writes; the lock is released after it.
 */
export async function withTargetLock<T>(
  d: ReleaseDeps,
  name: string,
  owner: string,
  work: (locked: Locked) => Promise<T>,
): Promise<T | Busy> {
  const lock = await d.store.acquireLock(keys.lock(name), { owner, ttlMs: 5 * 60_000 });
  if (!lock.acquired) return { kind: 'busy', holder: lock.holder, until: lock.expiresAt.toISOString() };
  const fence = { lock: lock.name, owner, token: lock.token };
  try {
    return await work({ ...d, fence });
  } finally {
    await d.store.releaseLock(fence).catch(() => {});
  }
}

/**
 * The cloud call of a change written ahead (`applying`). When it fails, or its answer is lost,
 * `settle` looks at what the cloud really says: a change that landed counts as done ('settled',
 * already recorded by `settle`); one that did not is dropped and the error stands.
 */
export async function callWrittenAhead(
  d: Locked,
  name: string,
  call: () => Promise<unknown>,
  settle: () => Promise<Reconciled>,
): Promise<'called' | 'settled'> {
  try {
    await call();
    return 'called';
  } catch (error) {
    const settled = await settle().catch((e: Error) => {
      d.log.error('release left applying; the next operation reconciles it', {
        target: name,
        error: e.message,
      });
      return undefined;
    });
    if (settled?.kind === 'completed') return 'settled';
    throw error;
  }
}

/** What release operations need of the handler context (spread-safe: its parts are getters). */
export function releaseDeps(ctx: ReleaseDeps): ReleaseDeps {
  return {
    config: ctx.config,
    store: ctx.store,
    cloud: ctx.cloud,
    cloudIn: ctx.cloudIn,
    events: ctx.events,
    now: ctx.now,
    log: ctx.log,
  };
}

export const isBusy = (value: unknown): value is Busy =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'busy';
