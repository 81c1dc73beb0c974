import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSecrets, runCli } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/fc-devops.mjs');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

// Every command main knows; each must answer --help with its own usage, exit 0.
const COMMANDS = [
  'dev',
  'build',
  'config',
  'invoke',
  'send',
  'call',
  'runs',
  'release',
  'image',
  'backup',
  'terraform',
  'env',
  'scale',
  'monitor',
  'console',
  'deploy',
  'layer',
  'policies',
  'bench',
];

describe('the CLI at its edges, without a runtime', () => {
  it('prints its version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', 'version']) {
      const result = cli([flag]);
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(`fc-devops ${version}\n`);
    }
  });

  it('answers --help on every command with that command usage, and exits 0', async () => {
    // In this process (one start of the CLI per command takes minutes on a busy machine); the
    // release case, the one that used to fail, also as a real process.
    const { main } = await import('../../local/cli/main.ts');
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const write = process.stdout.write;
      const writeErr = process.stderr.write;
      process.stdout.write = ((chunk: string) => {
        out += chunk;
        return true;
      }) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string) => {
        err += chunk;
        return true;
      }) as typeof process.stderr.write;
      try {
        return { status: await main(args), stdout: out, stderr: err };
      } finally {
        process.stdout.write = write;
        process.stderr.write = writeErr;
      }
    };
    for (const command of COMMANDS) {
      const result = await run([command, '--help']);
      expect({ command, status: result.status, stderr: result.stderr }).toEqual({
        command,
        status: 0,
        stderr: '',
      });
      expect(result.stdout).toMatch(new RegExp(`usage: fc-devops ${command}\\b`));
    }
    // Wherever it comes, and as `help <command>`.
    expect((await run(['release', 'promote', 'api-prod', '--help'])).stdout).toContain(
      'usage: fc-devops release',
    );
    expect((await run(['help', 'backup'])).stdout).toContain('usage: fc-devops backup run <policy>');
    const real = cli(['release', '--help']);
    expect(real.status).toBe(0);
    expect(real.stdout).toContain('usage: fc-devops release <command>');
  });

  it('says plainly that nothing runs at the address, instead of "fetch failed"', async () => {
    // A port nothing listens on: taken, then given back.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const result = cli(['release', 'status', 'api-prod', '--url', `http://127.0.0.1:${port}/release`], {
      FC_DEVOPS_KEY_ID: 'ops-alice',
      FC_DEVOPS_KEY_SECRET: 'x',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `nothing answers at 127.0.0.1:${port} (connection refused): is the local runtime running? Start it with npm start (fc-devops dev) in this directory, or point --url (or $FC_DEVOPS_URL) at one that runs.\n`,
    );
    const invoke = cli(['invoke', 'release', '--url', `http://127.0.0.1:${port}`]);
    expect(invoke.status).toBe(1);
    expect(invoke.stderr).toContain(`nothing answers at 127.0.0.1:${port}`);
  });

  it('stops quietly when the reader of its output goes away', () => {
    // `true` exits at once: the CLI writes into a closed pipe.
    const result = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" --help | true; echo "status \${PIPESTATUS[0]}"`],
      {
        encoding: 'utf8',
        cwd: ROOT,
      },
    );
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.stdout).toBe('status 0\n');
  });

  it('refuses bad usage with exit 2, naming what is wrong', () => {
    expect(cli(['call', 'FETCH', '/release/targets/x']).stderr).toContain('FETCH is not a method');
    expect(
      cli(['call', 'POST', '/backup-rotate/policies/x/run', '--data', '{nope'], {
        FC_DEVOPS_KEY_ID: 'k',
        FC_DEVOPS_KEY_SECRET: 's',
      }).stderr,
    ).toContain('--data is not JSON');
    const unknownOption = cli(['backup', 'run', 'orders', '--aply']);
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toContain("Unknown option '--aply'");
    expect(unknownOption.stderr).toContain('usage: fc-devops backup run');
    expect(cli(['runs', 'cancel']).status).toBe(2);
  });
});

describe('the CLI against the running example', () => {
  let system: System;
  const secrets = exampleSecrets();
  const alice = { FC_DEVOPS_KEY_ID: 'ops-alice', FC_DEVOPS_KEY_SECRET: secrets.FC_DEVOPS_KEY_ALICE! };

  beforeAll(async () => {
    const { loadSeedFile } = await import('../../local/sandbox/seed.ts');
    system = await startSystem({
      config: readFileSync(join(ROOT, 'fc-devops.example.yaml'), 'utf8'),
      seed: loadSeedFile(join(ROOT, 'local/sandbox/seed.example.json')),
      // The backup `backup run --apply` starts takes ten sandbox minutes: a second here, so the
      // system stops without waiting for it.
      timeScale: 600,
      env: () => secrets,
    });
  }, 180_000);
  afterAll(async () => system?.stop());

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(args, { cwd: ROOT, env: { ...process.env, ...secrets, ...env } });

  it('call signs any request to any function, and the function says who it was', async () => {
    const status = await run(
      // With --url (a function's own trigger) the path is the function's.
      ['call', 'GET', '/targets/api-prod', '--url', `${system.runtime.url}/release`],
      alice,
    );
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ target: 'api-prod', kind: 'fc-alias' });
    // Locally the first segment names the function.
    const dry = await run(
      ['call', 'POST', '/backup-rotate/policies/orders-db/run', '--data', '{"dryRun":true}'],
      {
        ...alice,
        FC_DEVOPS_URL: system.runtime.url,
      },
    );
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      reports: [{ instanceId: 'rm-bp1sandbox0001' }],
    });
    const bob = await run(
      ['call', 'POST', '/backup-rotate/policies/orders-db/run', '--data', '{"dryRun":true}'],
      {
        FC_DEVOPS_KEY_ID: 'ops-bob',
        FC_DEVOPS_KEY_SECRET: secrets.FC_DEVOPS_KEY_BOB!,
        FC_DEVOPS_URL: system.runtime.url,
      },
    );
    expect(bob.status).toBe(1);
    expect(JSON.parse(bob.stdout)).toEqual({
      error: 'Forbidden',
      message: 'key ops-bob may not run orders-db',
    });
  });

  it('backup run and image prune are dry runs unless --apply', async () => {
    const env = { ...alice, FC_DEVOPS_URL: system.runtime.url };
    const backup = await run(['backup', 'run', 'orders-db'], env);
    expect(backup.status).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ dryRun: true });
    const applied = await run(['backup', 'run', 'orders-db', '--apply'], env);
    expect(applied.status).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({
      policy: 'orders-db',
      jobs: [expect.stringMatching(/^manual:ops-alice:orders-db:/)],
    });
    const prune = await run(['image', 'prune'], env);
    expect(prune.status).toBe(0);
    expect(JSON.parse(prune.stdout)).toMatchObject({ dryRun: true, deleted: [] });
    const missing = await run(['image', 'build', 'nope', 'a'.repeat(40)], env);
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: 'PipelineNotFound' });
  });

  it('invoke --example sends each function a realistic event it accepts; a rejected event exits 1', async () => {
    const env = { ...alice, FC_DEVOPS_URL: system.runtime.url, FC_DEVOPS_STATE: join(system.dir, 'state') };
    const list = await run(['invoke', 'backup-rotate', '--example', 'list'], env);
    expect(list.stdout).toContain('timer');
    expect(list.stdout).toContain('http');
    expect(list.stdout).toContain('job');
    for (const [fn, example, expected] of [
      ['release', 'http', '"target": "api-prod"'],
      ['backup-rotate', 'job', '"status":"done"'],
      ['git-webhook', 'http', '"pong": true'],
      ['notify', 'job', '"deliveries"'],
      ['console', 'http', 'Sign in'],
    ] as const) {
      const result = await run(['invoke', fn, '--example', example], env);
      expect({ fn, example, status: result.status }).toEqual({ fn, example, status: 0 });
      expect(result.stdout).toContain(expected);
    }
    const unsigned = await run(['invoke', 'release', '--example', 'http'], {
      FC_DEVOPS_URL: system.runtime.url,
      FC_DEVOPS_KEY_ID: '',
      FC_DEVOPS_KEY_SECRET: '',
    });
    expect(unsigned.status).toBe(1);
    expect(unsigned.stdout).toContain('HTTP 401');
    const none = await run(['invoke', 'release', '--example', 'oss'], env);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('release has no "oss" example');
    // What the README once suggested: an event no function takes.
    writeFileSync(join(system.dir, 'hello.json'), '{"hello":"fc"}');
    const rejected = await runCli(['invoke', 'release', '--event', join(system.dir, 'hello.json')], {
      cwd: ROOT,
      env: { ...process.env, FC_DEVOPS_URL: system.runtime.url },
    });
    expect(rejected.status).toBe(1);
    expect(rejected.stdout).toContain('not an event this function accepts (accepts: http, timer, jobs)');
  });
});
