import { signRequest } from '../../shared/auth/signing.ts';
import type { Run, RunQuery, Store } from '../../shared/store/port.ts';

/** What `fc-devops runs` reads: the store itself, or the console's runs API (the same answers). */
export type RunSource = Pick<Store, 'getRun' | 'listRuns' | 'readRunLog' | 'readRunLogFrom' | 'close'>;

const DATES = ['createdAt', 'startedAt', 'finishedAt', 'cancelRequestedAt'] as const;

function toRun(value: Record<string, unknown>): Run {
  const run = { ...value } as Record<string, unknown>;
  for (const k of DATES) run[k] = typeof run[k] === 'string' ? new Date(run[k] as string) : null;
  return run as unknown as Run;
}

/**
 * The runs of a deployed fc-devops, through the console function's API (`--url` of the console's
 * trigger), with signed requests: a deployed store is inside a VPC the CLI does not reach.
 */
export function runsApi(url: string, key: { id: string; secret: string }): RunSource {
  const base = url.replace(/\/+$/, '');
  const get = async (path: string, query: Record<string, string> = {}) => {
    const search = new URLSearchParams(query).toString();
    const response = await fetch(`${base}${path}${search ? `?${search}` : ''}`, {
      headers: signRequest({ method: 'GET', path, query, keyId: key.id, secret: key.secret }),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw new Error(`${response.status} ${String(body.message ?? body.error ?? '')}`.trim());
    return body;
  };
  return {
    async getRun(id) {
      const body = await get(`/api/runs/${encodeURIComponent(id)}`);
      return body ? toRun(body) : undefined;
    },
    async listRuns(query: RunQuery = {}) {
      const q: Record<string, string> = {};
      for (const k of ['kind', 'subject', 'status', 'cursor'] as const) if (query[k]) q[k] = String(query[k]);
      if (query.limit) q.limit = String(query.limit);
      const body = (await get('/api/runs', q)) as { runs: Record<string, unknown>[]; next?: string };
      return { runs: body.runs.map(toRun), next: body.next };
    },
    async readRunLogFrom(id, offset) {
      const body = (await get(`/api/runs/${encodeURIComponent(id)}/log`, { offset: String(offset) })) as {
        text: string;
        next: number;
      };
      return { text: body.text, next: body.next };
    },
    async readRunLog(id, options = {}) {
      const { text } = await this.readRunLogFrom(id, 0);
      if (options.tailBytes === undefined) return text;
      const bytes = Buffer.from(text);
      return bytes.length <= options.tailBytes
        ? text
        : bytes.subarray(bytes.length - options.tailBytes).toString('utf8');
    },
    async close() {},
  };
}
