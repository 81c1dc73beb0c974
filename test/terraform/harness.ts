// What the Terraform system tests share: whether terraform is here, signed calls, the CLI, the timer.
import { execFileSync } from 'node:child_process';
import { signRequest } from '../../shared/auth/signing.ts';
import type { System } from '../system.ts';

export const HAS_TERRAFORM = (() => {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Say once, in the output, why a suite is skipped. */
export function sayIfSkipped(suite: string) {
  if (!HAS_TERRAFORM) console.warn(`terraform is not on PATH: the ${suite} are skipped`);
}

/** A signed call to the terraform function's endpoints, as key `key` (null: unsigned); `?query` is signed too. */
export function signedCaller<K extends string>(system: () => System, keys: Record<K, string>) {
  return async (key: K | null, method: string, path: string, body?: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const [bare, search = ''] = path.split('?');
    const query = Object.fromEntries(new URLSearchParams(search));
    const headers = key
      ? signRequest({ method, path: bare!, query, body: text, keyId: key, secret: keys[key] })
      : {};
    const response = await fetch(`${system().runtime.url}/terraform${path}`, {
      method,
      headers,
      ...(text ? { body: text } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
}

/** Fire the terraform function's timer as FC delivers it, at a chosen trigger time. */
export async function tickAt(system: System, at: Date) {
  const response = await fetch(`${system.runtime.url}/2023-03-30/functions/terraform/invocations`, {
    method: 'POST',
    body: JSON.stringify({ triggerTime: at.toISOString(), triggerName: 'tick', payload: '' }),
  });
  return (await response.json()) as {
    environments: { environment: string; did: string }[];
    drift: string[];
  };
}

export { cliRunner } from '../cli-runner.ts';
