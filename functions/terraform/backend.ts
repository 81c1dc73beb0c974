import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/runtime/logger.ts';
import type { Fence, Store } from '../../shared/store/port.ts';
import { builtin } from '../../shared/util/builtin.ts';
import { safeEqual } from '../../shared/util/compare.ts';

const http = builtin<typeof import('node:http')>('node:http');

/** Where a workspace's Terraform state lock lives in the store. */
export const stateLockName = (workspace: string) => `tfstate:${workspace}`;

export interface Backend {
  /** TF_HTTP_* variables that point Terraform at this server (credentials included). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

interface LockInfo {
  ID: string;
  Operation?: string;
  Who?: string;
  [key: string]: unknown;
}

/**
 * Terraform's `http` backend, served on loopback for the length of one run (a random port, a
 * random user and password). State versions go to the store, never overwritten; LOCK and UNLOCK
 * take and give back a leased lock in the store (renewed while held, so it expires when the
 * function dies); a write must carry the ID of the lock it holds. It behaves the same on PGlite and
 * on PostgreSQL, needs no other server, and keeps every state version.
 * Protocol: GET/POST(?ID=)/DELETE on `address`, LOCK/UNLOCK on `lock_address` with the LockInfo
 * JSON; 423 with the holder's LockInfo when locked (hashicorp/terraform internal/backend/remote-state/http).
 */
export async function serveBackend(deps: {
  store: Store;
  workspace: string;
  runId: string;
  log: Logger;
  /** How long a lock lives unless renewed; it is renewed every third of that while held. */
  leaseMs?: number;
}): Promise<Backend> {
  const user = `run-${randomBytes(6).toString('hex')}`;
  const password = randomBytes(24).toString('base64url');
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const leaseMs = deps.leaseMs ?? 120_000;
  const lockName = stateLockName(deps.workspace);
  const held = new Map<string, { fence: Fence; info: LockInfo }>();

  const renew = setInterval(() => {
    for (const { fence } of held.values())
      void deps.store
        .renewLock(fence, leaseMs)
        .catch((e: Error) => deps.log.warn('state lock not renewed', { error: e.message }));
  }, leaseMs / 3);
  renew.unref();

  const answer = (res: ServerResponse, status: number, body: unknown = '') =>
    res
      .writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' })
      .end(typeof body === 'string' ? body : JSON.stringify(body));

  const handle = async (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    if (!safeEqual(req.headers.authorization ?? '', expected)) return answer(res, 401, 'unauthorized');
    const url = new URL(req.url ?? '/', 'http://backend');
    if (url.pathname === '/state') {
      if (req.method === 'GET') {
        const state = await deps.store.getState(deps.workspace);
        if (!state) return answer(res, 204);
        return res.writeHead(200, { 'content-type': 'application/json' }).end(state.data);
      }
      if (req.method === 'POST') {
        const id = url.searchParams.get('ID');
        const lock = id ? held.get(id) : undefined;
        if (!lock)
          return answer(res, 409, `state writes need the lock this run holds (ID ${id ?? 'missing'})`);
        const md5 = req.headers['content-md5'];
        if (md5 && md5 !== createHash('md5').update(body).digest('base64'))
          return answer(res, 400, 'Content-MD5 does not match the body');
        const state = JSON.parse(body.toString('utf8')) as { lineage?: unknown; serial?: unknown };
        await deps.store.putState(
          deps.workspace,
          {
            data: body.toString('utf8'),
            lineage: String(state.lineage ?? ''),
            serial: Number(state.serial ?? 0),
            runId: deps.runId,
          },
          { fence: lock.fence },
        );
        return answer(res, 200);
      }
      // Workspaces are rows of one table here; deleting a workspace's state is not Terraform's to do.
      return answer(res, 405, 'only GET and POST');
    }
    if (url.pathname === '/lock') {
      const info = JSON.parse(body.toString('utf8') || '{}') as LockInfo;
      if (typeof info.ID !== 'string' || !info.ID) return answer(res, 400, 'LockInfo with an ID expected');
      if (req.method === 'LOCK') {
        const lock = await deps.store.acquireLock(lockName, { owner: info.ID, ttlMs: leaseMs });
        if (!lock.acquired) {
          const mine = held.get(lock.holder)?.info;
          return answer(
            res,
            423,
            mine ?? { ID: lock.holder, Info: `held until ${lock.expiresAt.toISOString()}` },
          );
        }
        held.set(info.ID, { fence: { lock: lockName, owner: info.ID, token: lock.token }, info });
        return answer(res, 200);
      }
      if (req.method === 'UNLOCK') {
        const lock = held.get(info.ID);
        if (!lock) return answer(res, 409, { ID: info.ID, Info: 'this run does not hold that lock' });
        held.delete(info.ID);
        await deps.store.releaseLock(lock.fence);
        return answer(res, 200);
      }
    }
    return answer(res, 404, `no ${req.method} ${url.pathname}`);
  };

  const server = http().createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks), res).catch((error: Error) => {
        deps.log.error('state backend request failed', { method: req.method, error: error.message });
        if (!res.headersSent) answer(res, 500, 'state backend error');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      TF_HTTP_ADDRESS: `${base}/state`,
      TF_HTTP_LOCK_ADDRESS: `${base}/lock`,
      TF_HTTP_UNLOCK_ADDRESS: `${base}/lock`,
      TF_HTTP_USERNAME: user,
      TF_HTTP_PASSWORD: password,
    },
    async stop() {
      clearInterval(renew);
      // A run that ends while still holding the lock (it was interrupted) gives it back.
      for (const { fence } of held.values()) await deps.store.releaseLock(fence).catch(() => {});
      held.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The backend block fc-devops adds to a root module (as an override file) for its own backend. */
export const BACKEND_OVERRIDE = {
  file: 'zz_fc_devops_backend_override.tf',
  text: '# Written by fc-devops: state is served by the function and kept in its store.\nterraform {\n  backend "http" {}\n}\n',
};
