import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config/load.ts';
import { buildFunctions } from '../runtime/build.ts';
import { LocalRuntime } from '../runtime/runtime.ts';
import { loadProject } from '../runtime/s-yaml.ts';
import { claimStateDir } from '../runtime/state-dir.ts';
import { SANDBOX_KEYS } from '../sandbox/keys.ts';
import { loadSeedFile } from '../sandbox/seed.ts';
import { Sandbox } from '../sandbox/server.ts';
import { sinkSecretsFromEnv } from '../sandbox/sinks.ts';
import { bucketStore, invokeTarget } from './dev-wiring.ts';
import { loadEnvFile } from './dotenv.ts';
import { examplesFor } from './examples.ts';
import { ensureExampleRepo, type PushHost, pushDelivery } from './git-push.ts';
import { localRuntimeUrl } from './local-urls.ts';
import { CONFIG_USAGE, INVOKE_USAGE } from './usages.ts';

/** Where the local runtime answers: $FC_DEVOPS_URL, else what `dev` on .fc-devops said, else :8787. */
const DEFAULT_URL = process.env.FC_DEVOPS_URL ?? localRuntimeUrl();

export async function devCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      template: { type: 'string', default: 's.yaml' },
      config: { type: 'string', default: process.env.FC_DEVOPS_CONFIG ?? 'fc-devops.example.yaml' },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      state: { type: 'string', default: '.fc-devops' },
      'no-watch': { type: 'boolean', default: false },
      'sandbox-port': { type: 'string', default: '8788' },
      seed: { type: 'string', default: 'local/sandbox/seed.example.json' },
    },
  });
  const stateDir = resolve(values.state);
  // Before anything starts: a second `dev` on a state directory in use is refused, naming the first.
  const claim = claimStateDir(stateDir);
  const configFile = resolve(values.config);
  // The example config's image pipeline and Terraform workspace follow real git repositories; make
  // them on first start.
  for (const [example, repo] of [
    ['examples/images', 'repos/images'],
    ['examples/terraform', 'repos/terraform'],
  ] as const) {
    try {
      if (ensureExampleRepo(resolve(example), resolve(stateDir, repo), `the example in ${example}`))
        console.log(`[dev] made the example repository ${resolve(stateDir, repo)}`);
    } catch (error) {
      console.log(`[dev] no example repository ${repo} (is git installed?): ${(error as Error).message}`);
    }
  }
  loadProject(resolve(values.template));
  // Real credentials in the environment point the functions at the real cloud; otherwise the sandbox.
  const real = Boolean(process.env.ALIBABA_CLOUD_ACCESS_KEY_ID);
  // The sandbox's own region is the config's, so what it seeds is where the functions look. A config
  // that does not read is reported below, with every problem, once the environment is loaded.
  let region: string | undefined;
  try {
    region = loadConfig(configFile).region;
  } catch {
    region = undefined;
  }
  const sandbox = real
    ? undefined
    : await Sandbox.start({
        port: Number(values['sandbox-port']),
        dir: resolve(stateDir, 'sandbox'),
        seed: loadSeedFile(resolve(values.seed)),
        keys: SANDBOX_KEYS,
        ...(region ? { region } : {}),
      });
  let runtime: LocalRuntime;
  try {
    // Every local URL follows the flags: the sandbox-only values point at the sandbox this run started.
    const { loaded, skipped } = loadEnvFile(
      resolve('local/dev.env'),
      process.env,
      sandbox ? { FC_DEVOPS_SANDBOX_URL: sandbox.url } : {},
    );
    if (loaded.length > 0) console.log(`[dev] sandbox values from local/dev.env for: ${loaded.join(', ')}`);
    if (skipped.length > 0) console.log(`[dev] not set (they point at the sandbox): ${skipped.join(', ')}`);
    // Fail fast, before the runtime starts, on a config that cannot work.
    loadConfig(configFile, { requireSecrets: true });
    sandbox?.useSinkSecrets(sinkSecretsFromEnv(process.env));
    runtime = await LocalRuntime.start({
      template: resolve(values.template),
      port: Number(values.port),
      stateDir,
      watch: !values['no-watch'],
      env: { FC_DEVOPS_CONFIG: configFile, ...(sandbox ? { FC_DEVOPS_CLOUD_URL: sandbox.url } : {}) },
    });
  } catch (error) {
    await sandbox?.stop();
    claim.release();
    throw error;
  }
  claimStateDir(stateDir, sandbox ? { sandboxUrl: sandbox.url } : {});
  sandbox?.attach({ runtime: invokeTarget(runtime), objects: bucketStore(runtime) });
  console.log(
    sandbox
      ? `[dev] sandbox cloud at ${sandbox.url} (inspect: ${sandbox.url}/_sandbox/calls, /_sandbox/messages, /_sandbox/state)`
      : '[dev] ALIBABA_CLOUD_ACCESS_KEY_ID is set: functions call the real Alibaba Cloud',
  );
  console.log(`[dev] local Function Compute at ${runtime.url} with ${runtime.functions.size} function(s)`);
  for (const fn of runtime.functions.values()) {
    const triggers = [
      fn.http ? `http ${runtime.url}/${fn.name}/ (${fn.http.triggerConfig.methods.join(',')})` : '',
      ...fn.timers.map(
        (t) =>
          `timer ${t.triggerName} "${t.triggerConfig.cronExpression}"${t.triggerConfig.enable ? '' : ' (disabled)'}`,
      ),
      ...fn.oss.map((t) => `oss ${t.sourceArn.split(':')[4]} ${t.triggerConfig.events.join(',')}`),
    ].filter(Boolean);
    console.log(`[dev]   ${fn.name}: ${triggers.join('; ') || 'invoke only'}`);
  }
  console.log(`[dev] invoke API: POST ${runtime.url}/2023-03-30/functions/<name>/invocations; Ctrl-C stops`);
  await new Promise<void>((done) => {
    const shutdown = () => {
      console.log('[dev] shutting down: draining invocations in flight');
      runtime
        .stop()
        .then(() => sandbox?.stop())
        .finally(() => claim.release())
        .then(done, done);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  return 0;
}

export async function buildCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { root: { type: 'string', default: '.' } } });
  const result = await buildFunctions(resolve(values.root));
  if (result.errors.length > 0) {
    console.error(result.errors.join('\n'));
    return 1;
  }
  console.log(
    `built ${result.functions.length} function(s) into ${result.outDir}: ${result.functions.join(', ') || '(none)'}`,
  );
  // In the cloud each function reads fc-devops.yaml beside its bundle; say when there is none to copy.
  if (result.functions.length && !existsSync(join(resolve(values.root), 'fc-devops.yaml')))
    console.log(
      'no fc-devops.yaml here, so the bundles carry no configuration: fine for npm start (it points the ' +
        'functions at fc-devops.example.yaml), not for a deploy. Copy fc-devops.example.yaml to fc-devops.yaml ' +
        'and make it yours, then build again (npm run deploy does).',
    );
  return 0;
}

export async function configCommand(args: string[]): Promise<number> {
  const cloudFlag = args.includes('--cloud');
  const [sub, file] = args.filter((a) => a !== '--cloud');
  if (sub !== 'check') {
    console.error(CONFIG_USAGE);
    return 2;
  }
  const path = resolve(file ?? process.env.FC_DEVOPS_CONFIG ?? 'fc-devops.yaml');
  const config = loadConfig(path, { requireSecrets: true });
  if (cloudFlag) {
    const { checkAgainstCloud } = await import('./cloud-check.ts');
    const problems = await checkAgainstCloud(config);
    if (problems.length) {
      for (const p of problems) console.error(`${path} ${p.field}: ${p.message}`);
      return 1;
    }
  }
  const count = (o: object) => Object.keys(o).length;
  console.log(
    `${path}: ok (region ${config.region}; ${count(config.notifications.channels)} channels, ` +
      `${count(config.images.pipelines)} pipelines, ${count(config.backups.policies)} backup policies, ` +
      `${count(config.scaling.targets)} scaling targets, ${count(config.releases.targets)} release targets, ` +
      `${count(config.access.keys)} access keys)${cloudFlag ? '; the cloud agrees' : ''}`,
  );
  return 0;
}

export async function invokeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      event: { type: 'string' },
      example: { type: 'string' },
      async: { type: 'boolean', default: false },
      url: { type: 'string', default: DEFAULT_URL },
      template: { type: 'string', default: 's.yaml' },
      config: { type: 'string', default: process.env.FC_DEVOPS_CONFIG ?? 'fc-devops.example.yaml' },
      state: { type: 'string', default: process.env.FC_DEVOPS_STATE ?? '.fc-devops' },
    },
  });
  const name = positionals[0];
  if (!name || (values.event !== undefined && values.example !== undefined)) {
    console.error(INVOKE_USAGE);
    return 2;
  }
  let body: Buffer;
  if (values.example !== undefined) {
    const fn = loadProject(resolve(values.template)).functions.find((f) => f.name === name);
    if (!fn) {
      console.error(`invoke: ${values.template} has no function ${name}`);
      return 2;
    }
    loadEnvFile(resolve('local/dev.env'));
    const keyId = process.env.FC_DEVOPS_KEY_ID;
    const secret = process.env.FC_DEVOPS_KEY_SECRET;
    const examples = examplesFor({
      fn,
      config: loadConfig(resolve(values.config)),
      stateDir: resolve(values.state),
      key: keyId && secret ? { id: keyId, secret } : undefined,
      env: process.env,
      now: new Date(),
    });
    const list = Object.entries(examples)
      .map(([k, e]) => `  ${k.padEnd(6)} ${e.about}`)
      .join('\n');
    if (values.example === 'list') {
      console.log(`examples of ${name} (fc-devops invoke ${name} --example <name>):\n${list}`);
      return 0;
    }
    const example = Object.hasOwn(examples, values.example) ? examples[values.example] : undefined;
    if (!example) {
      console.error(`invoke: ${name} has no "${values.example}" example; it has:\n${list}`);
      return 2;
    }
    console.error(`${name} <- ${values.example}: ${example.about}`);
    if (!keyId && example.about.match(/^(GET|POST) /))
      console.error('(unsigned: set FC_DEVOPS_KEY_ID and FC_DEVOPS_KEY_SECRET to sign it; expect a 401)');
    body = Buffer.from(JSON.stringify(example.event()));
  } else {
    body =
      values.event === undefined ? Buffer.alloc(0) : readFileSync(values.event === '-' ? 0 : values.event);
  }
  const response = await fetch(`${values.url}/2023-03-30/functions/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    headers: { 'x-fc-invocation-type': values.async ? 'Async' : 'Sync' },
    body,
  });
  const text = await response.text();
  const errorType = response.headers.get('x-fc-error-type');
  console.error(
    `${response.status} request ${response.headers.get('x-fc-request-id')}${errorType ? ` ${errorType}` : ''}`,
  );
  if (text) console.log(shown(text));
  return response.ok && !errorType && !refused(text) ? 0 : 1;
}

/** An HTTP trigger's answer as its status and its body (JSON indented), not as FC's envelope. */
function shown(text: string): string {
  try {
    const answer = JSON.parse(text) as { statusCode?: unknown; body?: unknown; isBase64Encoded?: boolean };
    if (typeof answer.statusCode !== 'number' || typeof answer.body !== 'string') return text;
    const body = answer.isBase64Encoded ? Buffer.from(answer.body, 'base64').toString('utf8') : answer.body;
    let pretty = body;
    try {
      pretty = JSON.stringify(JSON.parse(body), null, 2);
    } catch {}
    return `HTTP ${answer.statusCode}\n${pretty}`;
  } catch {
    return text;
  }
}

/** The function answered, but said no: it rejected the event, failed it, or answered an HTTP error. */
function refused(text: string): boolean {
  try {
    const answer = JSON.parse(text) as { status?: unknown; statusCode?: unknown };
    return (
      answer.status === 'rejected' ||
      answer.status === 'failed' ||
      (typeof answer.statusCode === 'number' && answer.statusCode >= 400)
    );
  } catch {
    return false;
  }
}

/** POST a signed GitHub push of a local repository's latest commit to the running git-webhook. */
async function sendGitPush(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      repo: { type: 'string' },
      url: { type: 'string', default: DEFAULT_URL },
      function: { type: 'string', default: 'git-webhook' },
      'secret-env': { type: 'string', default: 'GIT_WEBHOOK_SECRET' },
      delivery: { type: 'string' },
      host: { type: 'string', default: 'github' },
      form: { type: 'boolean', default: false },
    },
  });
  const hosts = ['github', 'gitlab', 'codeup', 'gitee'];
  if (!hosts.includes(values.host)) {
    console.error(`--host must be one of ${hosts.join(', ')}`);
    return 2;
  }
  if (!values.repo) {
    console.error('send git-push needs --repo <path of a git repository>');
    return 2;
  }
  loadEnvFile(resolve('local/dev.env'));
  const secret = process.env[values['secret-env']];
  if (!secret) {
    console.error(`set ${values['secret-env']} to the webhook secret the pipeline's repository names`);
    return 2;
  }
  if (values.form && values.host !== 'github') {
    console.error('--form is for GitHub deliveries (its default application/x-www-form-urlencoded)');
    return 2;
  }
  const { body, headers } = pushDelivery(
    values.repo,
    values.host as PushHost,
    secret,
    values.delivery,
    new Date(),
    {
      form: values.form,
    },
  );
  const response = await fetch(`${values.url}/${values.function}/`, { method: 'POST', headers, body });
  console.log(`${values.host} push: ${response.status}`);
  console.log(await response.text());
  return response.ok ? 0 : 1;
}

export async function sendCommand(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (kind === 'git-push') return sendGitPush(rest);
  if (kind === 'alarm') {
    const { sendAlarm } = await import('./scale.ts');
    return sendAlarm(rest, DEFAULT_URL);
  }
  if (kind !== 'oss-put') {
    console.error(
      'usage: fc-devops send oss-put --bucket B --key K [--file F]\n       fc-devops send git-push --repo PATH [--host github|gitlab|codeup|gitee] [--delivery ID]\n       fc-devops send alarm --target T [--state ALERT|OK] [--metric M]',
    );
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      bucket: { type: 'string' },
      key: { type: 'string' },
      file: { type: 'string' },
      url: { type: 'string', default: DEFAULT_URL },
    },
  });
  if (!values.bucket || !values.key) {
    console.error('send oss-put needs --bucket and --key');
    return 2;
  }
  const body = values.file ? readFileSync(values.file) : Buffer.alloc(0);
  const response = await fetch(
    `${values.url}/_local/oss/${encodeURIComponent(values.bucket)}/${values.key.split('/').map(encodeURIComponent).join('/')}`,
    { method: 'PUT', body },
  );
  console.log(await response.text());
  return response.ok ? 0 : 1;
}
