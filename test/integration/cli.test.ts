import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers.ts';

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
    const env = Object.fromEntries(
      [
        'DINGTALK_WEBHOOK',
        'DINGTALK_SECRET',
        'LARK_WEBHOOK',
        'LARK_SECRET',
        'AUDIT_WEBHOOK_URL',
        'AUDIT_WEBHOOK_SECRET',
        'GIT_WEBHOOK_SECRET',
        'FC_DEVOPS_KEY_ALICE',
        'FC_DEVOPS_KEY_BOB',
      ].map((k) => [k, 'x']),
    );
    const result = cli(['config', 'check', 'fc-devops.example.yaml'], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/fc-devops.example.yaml: ok \(region cn-hangzhou; 4 channels, 1 pipelines/);
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

  it('npm start (dev) serves the runtime on the example config and shuts down cleanly on SIGTERM', async () => {
    const state = mkdtempSync(join(tmpdir(), 'dev-state-'));
    const child = spawn(
      process.execPath,
      [BIN, 'dev', '--port', '8797', '--sandbox-port', '0', '--no-watch', '--state', state],
      {
        cwd: ROOT,
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    try {
      await until(() => out.includes('local Function Compute at http://127.0.0.1:8797'), 30_000);
      const health = await fetch('http://127.0.0.1:8797/_local/health');
      expect(health.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out).toContain('draining invocations in flight');
  });
});
