import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fresh copy of a real event fixture under test/events/, to mutate one field of. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'events', name), 'utf8')) as T;
}

export async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Replace one value somewhere in a real payload with garbage. */
export function mutate(value: unknown, path: number[], garbage: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return garbage;
  const keys = Object.keys(value);
  if (keys.length === 0) return garbage;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value };
  copy[key] = mutate((value as Record<string, unknown>)[key], path.slice(1), garbage);
  return copy;
}
