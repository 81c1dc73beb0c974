import { type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../shared/config/load.ts';
import { findSecretRefs } from '../shared/config/secret-ref.ts';

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

/** Every `${env:NAME}` fc-devops.example.yaml references, each set to a value of its own. */
export function exampleSecrets(): Record<string, string> {
  const refs = findSecretRefs(loadConfig(join(import.meta.dirname, '..', 'fc-devops.example.yaml')));
  return Object.fromEntries(refs.map((r) => [r.name, `value-of-${r.name.toLowerCase()}`]));
}

/** `fc-devops <args>` in a child process, asynchronously (the runtime it talks to may run in this one). */
export function runCli(
  args: string[],
  options: SpawnOptions = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', 'bin', 'fc-devops.mjs'), ...args],
      {
        ...options,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (status) => done({ status, stdout, stderr }));
  });
}
