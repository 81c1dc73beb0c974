import { ApiError } from '../api-error.ts';
import type { SandboxState } from '../state.ts';

export interface RestRequest {
  method: string;
  /** Path below the product prefix. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RestResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (OSS objects, XML). */
  raw?: Buffer | string;
}

export interface RestContext {
  state: SandboxState;
  now: number;
  region: string;
  accountId: string;
  /** The access key id whose signature was verified (set before the route runs). */
  caller?: string;
  /** Where the sandbox clusters' Kubernetes API listens. */
  kubeUrl?: string;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): RestResponse {
  return { status, body, headers };
}

export function readJson(req: RestRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  return JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
}

/** The route for a path the product does not serve: the real gateway's InvalidAction.NotFound. */
export function unknownRoute(req: RestRequest): { action: string; run: () => RestResponse } {
  return {
    action: 'Unknown',
    run: () => {
      throw new ApiError(
        404,
        'InvalidAction.NotFound',
        `Specified api is not found: ${req.method} ${req.path}`,
      );
    },
  };
}
