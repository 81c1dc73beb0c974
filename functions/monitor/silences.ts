import { randomUUID } from 'node:crypto';
import type { Store } from '../../shared/store/port.ts';

/** A manual silence: the checks it covers, until when, why and who. */
export interface Silence {
  id: string;
  checks: string[];
  until: string;
  reason: string;
  by: string;
  ended?: { at: string; by: string };
}

const KEY = 'monitor:silences';

/** Every silence, the latest version of each (a silence ended early is written again), newest first. */
export async function silences(store: Store): Promise<Silence[]> {
  const entries = await store.readHistory<Silence>(KEY, { limit: 500 });
  const seen = new Map<string, Silence>();
  for (const e of entries) if (!seen.has(e.value.id)) seen.set(e.value.id, e.value);
  return [...seen.values()];
}

export const activeAt = (all: Silence[], at: Date) =>
  all.filter((s) => !s.ended && Date.parse(s.until) > at.getTime());

export const silenced = (active: Silence[], check: string) =>
  active.some((s) => s.checks.includes(check) || s.checks.includes('*'));

export async function addSilence(store: Store, input: Omit<Silence, 'id'>): Promise<Silence> {
  const silence = { id: `sil-${randomUUID().slice(0, 8)}`, ...input };
  await store.appendHistory(KEY, { value: silence, actor: input.by });
  return silence;
}

export async function endSilence(store: Store, silence: Silence, by: string, at: Date): Promise<Silence> {
  const ended = { ...silence, ended: { at: at.toISOString(), by } };
  await store.appendHistory(KEY, { value: ended, actor: by });
  return ended;
}
