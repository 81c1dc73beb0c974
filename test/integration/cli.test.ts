import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJob } from '../../shared/events/job.ts';
import { exampleSecrets, until } from '../helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/fc-devops.mjs');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

describe('fc-devops CLI', () => {
  it('config check passes on the example when its secrets are set', () => {
    const env = exampleSecrets();
    const result = cli(['config', 'check', 'fc-devops.example.yaml'], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/fc-devops.example.yaml: ok \(region cn-hangzhou; 5 channels, 1 pipelines/);
  });

  it('config check fails naming file, line and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'fc-devops.yaml');
    writeFileSync(
      file,
      'region: cn-hangzhou\nreleases:\n  targets:\n    api: { kind: fc-alias, function: f }\n',
    );
    const result = cli(['config', 'check', file]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}:4:10 releases.targets.api.alias:`);
  });

  it('dev refuses a malformed s.yaml before starting, naming file, line and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-'));
    const template = join(dir, 's.yaml');
    writeFileSync(
      template,
      'edition: 3.0.0\nresources:\n  a:\n    component: fc3\n    props: { region: r, functionName: "1bad", runtime: nodejs20, handler: index.handler, code: . }\n',
    );
    writeFileSync(join(dir, 'c.yaml'), 'region: cn-hangzhou\n');
    const result = cli([
      'dev',
      '--template',
      template,
      '--config',
      join(dir, 'c.yaml'),
      '--port',
      '0',
      '--no-watch',
      '--state',
      join(dir, 'state'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${template}:5:39 resources.a.props.functionName: FC function names`);
  });

  it('unknown commands print usage and exit 2', () => {
    const result = cli(['frobnicate']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });

  /** `fc-devops dev` on free ports; its output so far, and the URLs it printed. */
  function startDev(state: string, extra: string[] = []) {
    const child = spawn(
      process.execPath,
      [BIN, 'dev', '--port', '0', '--sandbox-port', '0', '--no-watch', '--state', state, ...extra],
      { cwd: ROOT },
    );
    const out = { text: '' };
    child.stdout.on('data', (d) => {
      out.text += d;
    });
    child.stderr.on('data', (d) => {
      out.text += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const urls = async () => {
      const runtime = await until(
        () => /local Function Compute at (http:\/\/\S+) /.exec(out.text)?.[1],
        60_000,
      );
      const sandbox = /sandbox cloud at (http:\/\/\S+) /.exec(out.text)?.[1] ?? '';
      return { runtime, sandbox };
    };
    return { child, out, exited, urls };
  }

  it('npm start (dev) serves the runtime on the example config and shuts down cleanly on SIGTERM', async () => {
    const dev = startDev(mkdtempSync(join(tmpdir(), 'dev-state-')));
    try {
      const { runtime } = await dev.urls();
      const health = await fetch(`${runtime}/_local/health`);
      expect(health.status).toBe(200);
    } finally {
      dev.child.kill('SIGTERM');
    }
    expect(await dev.exited).toBe(0);
    expect(dev.out.text).toContain('draining invocations in flight');
  });

  it('dev sends notifications to the sandbox it started, and refuses a second dev on its state directory', async () => {
    const state = mkdtempSync(join(tmpdir(), 'dev-state-'));
    const first = startDev(state);
    try {
      const { runtime, sandbox } = await first.urls();
      // The example routes errors to DingTalk: the message reaches this run's sandbox, on whatever port it got.
      const { bytes } = createJob({
        kind: 'notify.event',
        idempotencyKey: 'event:cli-test',
        payload: {
          id: 'cli-test',
          kind: 'cli.check.failed',
          severity: 'error',
          subject: 'dev wiring',
          summary: 'a test event',
          time: new Date().toISOString(),
        },
      });
      const sent = await fetch(`${runtime}/2023-03-30/functions/notify/invocations`, {
        method: 'POST',
        body: bytes,
      });
      expect(sent.status).toBe(200);
      const messages = await until(async () => {
        const r = (await (await fetch(`${sandbox}/_sandbox/messages`)).json()) as {
          sinks: { channel: string }[];
        };
        return r.sinks.some((m) => m.channel === 'dingtalk') ? r.sinks : undefined;
      });
      expect(messages.map((m) => m.channel)).toContain('dingtalk');

      // A second dev on the same state directory stops at once, naming the first.
      const second = startDev(state);
      expect(await second.exited).toBe(1);
      expect(second.out.text).toMatch(
        new RegExp(`state directory ${state} is in use by fc-devops \\(pid ${first.child.pid}`),
      );
      // The first is untouched: it still answers, and the CLI still reads its live state.
      expect((await fetch(`${runtime}/_local/health`)).status).toBe(200);
      const runs = cli(['runs', '--state', state, '--kind', 'notify.event']);
      expect(runs.status, runs.stderr).toBe(0);
      expect(runs.stdout).toContain('cli.check.failed');
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
  });
});
