import type { Params } from '../api-error.ts';
import type { SandboxState } from '../state.ts';
import type { ObjectStore } from './oss.ts';

export interface ActionContext {
  state: SandboxState;
  params: Params;
  /** Sandbox time, ms. */
  now: number;
  region: string;
  accountId: string;
  /** The buckets, for actions that read an object (ECS ImportImage). */
  objects?: ObjectStore;
  /** Another region's state, for actions that reach across regions (ECS CopyImage). */
  stateIn?: (region: string) => SandboxState;
}

export type Action = (ctx: ActionContext) => unknown | Promise<unknown>;

/** Answer a repeated ClientToken with the first answer: the retried call is done once. */
export function idempotent(ctx: ActionContext, action: string, run: () => unknown): unknown {
  const token = ctx.params.ClientToken;
  if (!token) return run();
  const key = `${action}:${token}`;
  if (key in ctx.state.clientTokens) return ctx.state.clientTokens[key];
  const result = run();
  ctx.state.clientTokens[key] = result;
  return result;
}

export function page<T>(items: T[], pageNumber: number, pageSize: number): T[] {
  return items.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
}
