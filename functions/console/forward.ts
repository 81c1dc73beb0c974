import { SESSION_SCHEME } from '../../shared/auth/signing.ts';
import { exchange } from '../../shared/cloud/http-exchange.ts';

export interface Answer {
  status: number;
  body: unknown;
}

/**
 * Call another function's endpoint for the signed-in key: the session is the credential, so the
 * function's own gate checks the key's roles, its approvals rules and writes the audit record,
 * exactly as for a signed request. `FC_DEVOPS_FUNCTIONS_URL` is where `/<function>/<path>` reaches
 * each function: the local runtime, or a custom domain routing those paths in the cloud.
 */
export async function callFunction(
  env: NodeJS.ProcessEnv,
  token: string,
  fn: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; query?: Record<string, string>; idempotencyKey?: string; source?: string } = {},
): Promise<Answer> {
  const base = env.FC_DEVOPS_FUNCTIONS_URL;
  // Said on the page where the answer would be: the pages that read the store still work.
  if (!base)
    return {
      status: 503,
      body: {
        error: 'NotConfigured',
        message:
          'FC_DEVOPS_FUNCTIONS_URL is not set: the console needs the address that routes /<function>/ paths to the functions',
      },
    };
  const search = new URLSearchParams(options.query ?? {}).toString();
  const response = await exchange(
    new URL(`${base.replace(/\/+$/, '')}/${fn}${path}${search ? `?${search}` : ''}`),
    {
      method,
      headers: {
        authorization: `${SESSION_SCHEME} ${token}`,
        'content-type': 'application/json',
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        ...(options.source ? { 'x-forwarded-for': options.source } : {}),
      },
      ...(method === 'POST' ? { body: Buffer.from(JSON.stringify(options.body ?? {})) } : {}),
      timeoutMs: 25_000,
    },
  );
  const text = response.body.toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

/** What an answer says went wrong, for a notice on the page. */
export function problem(answer: Answer): string {
  const b = answer.body as { message?: unknown; error?: unknown } | string;
  if (typeof b === 'object' && b && typeof b.message === 'string') return b.message;
  if (typeof b === 'object' && b && typeof b.error === 'string') return b.error;
  return `HTTP ${answer.status}`;
}
