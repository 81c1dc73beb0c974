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
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): RestResponse {
  return { status, body, headers };
}

export function readJson(req: RestRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  return JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
}
