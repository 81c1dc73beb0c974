import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutCommit } from '../../shared/tools/git.ts';
import { commitFiles, git } from './git-repo.ts';

const TOKEN = 'ghp_exampleTokenValue123';

/**
 * A real git smart-HTTP server (git http-backend behind node:http) that, like GitHub, wants the
 * token as HTTP basic auth with the user `x-access-token`.
 */
function gitServer(root: string): Promise<{ server: Server; url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    if (auth !== `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const cgi = spawn('/usr/lib/git-core/git-http-backend', [], {
      env: {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
    cgi.on('close', () => {
      const out = Buffer.concat(chunks);
      const split = out.indexOf('\r\n\r\n');
      const head = out.subarray(0, split).toString();
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.split('\r\n')) {
        const [k, ...v] = line.split(':');
        if (k!.toLowerCase() === 'status') status = Number(v.join(':').trim().split(' ')[0]);
        else headers[k!.toLowerCase()] = v.join(':').trim();
      }
      res.writeHead(status, headers).end(out.subarray(split + 4));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

describe('fetching over HTTPS-style smart HTTP with a token', () => {
  let served: Awaited<ReturnType<typeof gitServer>>;
  let commits: string[];
  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'git-http-'));
    const repo = join(root, 'images.git');
    git(root, 'init', '-q', '-b', 'main', 'images.git');
    commits = [
      commitFiles(repo, { 'packer/web.json': '{}' }),
      commitFiles(repo, { 'packer/web.json': '{"v":2}' }),
    ];
    served = await gitServer(root);
  });
  afterAll(() => new Promise<void>((r) => served?.server.close(() => r())));

  const work = () => join(mkdtempSync(join(tmpdir(), 'co-')), 'src');

  it('sends the token as a header and checks out the exact commit', async () => {
    const dir = work();
    await checkoutCommit({ url: `${served.url}/images.git`, token: TOKEN, host: 'github' }, commits[0]!, dir);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commits[0]);
    expect(git(dirname(join(dir, '.git')), 'config', '--list')).not.toContain(TOKEN);
  });

  it('fails without the token, as a failure worth retrying (it names no secret)', async () => {
    const error = await checkoutCommit({ url: `${served.url}/images.git` }, commits[1]!, work()).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ name: 'GitError', permanent: false });
    expect(String(error.message)).not.toContain(TOKEN);
    expect(served.seen).toContain('');
  });
});
