import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkDeploy } from '../deploy/check.ts';
import { buildLayer, LAYERS, LayerError } from '../deploy/layers.ts';
import { formatPlan } from '../deploy/plan.ts';
import { buildFunctions } from '../runtime/build.ts';
import { loadEnvFile } from './dotenv.ts';

export const DEPLOY_USAGE = `usage: fc-devops deploy [--plan] [--env-file deploy.env] [--config fc-devops.yaml] [--template s.yaml]

Checks fc-devops.yaml (every \${env:...} set), the environment s.yaml reads (roles, VPC, logs,
layers, dead letter: \`terraform -chdir=infra output -raw deploy_env > deploy.env\`), the fc3 props,
the RAM policies against the code, and whether DATABASE_URL answers; then builds and runs
Serverless Devs' \`s deploy -y\`. --plan prints what would be created or changed and stops there,
without calling the cloud. Variables already set in the environment win over the env file.
`;

export const LAYER_USAGE = `usage: fc-devops layer build <${Object.keys(LAYERS).join('|')}> [--path BIN=/path/to/bin]... [--out dist/layers]

Assembles an FC layer archive from binaries on this machine (or the given paths): bin/, lib/ with the
shared libraries they load, and fc-devops-layer.json with each file's origin, sha256 and version.
FC unpacks it under /opt, where the functions look first. Publish it with infra/ (var.layers).
`;

export async function deployCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      plan: { type: 'boolean', default: false },
      'env-file': { type: 'string', default: 'deploy.env' },
      config: { type: 'string', default: 'fc-devops.yaml' },
      template: { type: 'string', default: 's.yaml' },
      policies: { type: 'string', default: 'infra/policies' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(DEPLOY_USAGE);
    return 0;
  }
  const root = resolve('.');
  const env: NodeJS.ProcessEnv = { ...process.env };
  const envFile = resolve(values['env-file']);
  if (existsSync(envFile)) {
    const { loaded } = loadEnvFile(envFile, env);
    console.log(`read ${loaded.length} variable(s) from ${values['env-file']}`);
  } else if (values['env-file'] !== 'deploy.env') {
    process.stderr.write(`${values['env-file']}: not found\n`);
    return 1;
  }
  const check = await checkDeploy({
    root,
    template: resolve(values.template),
    configFile: resolve(values.config),
    policiesDir: resolve(values.policies),
    env,
  });
  if (!values.plan && !env.ALIBABA_CLOUD_ACCESS_KEY_ID && !existsSync(join(homedir(), '.s', 'access.yaml')))
    check.problems.push(
      's deploy needs credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run npx s config add',
    );
  for (const w of check.warnings) process.stderr.write(`warning: ${w}\n`);
  if (values.plan) {
    if (check.functions.length) process.stdout.write(formatPlan(check.functions));
    if (check.problems.length) {
      process.stderr.write(
        `a deploy would stop here:\n${check.problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    return 0;
  }
  if (check.problems.length) {
    process.stderr.write(
      `deploy stopped before calling the cloud:\n${check.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    return 1;
  }
  const built = await buildFunctions(root, { config: resolve(values.config) });
  if (built.errors.length) {
    process.stderr.write(`${built.errors.join('\n')}\n`);
    return 1;
  }
  console.log(`built ${built.functions.length} function(s), each with ${values.config}`);
  const s = join(root, 'node_modules', '.bin', 's');
  if (!existsSync(s)) {
    process.stderr.write(
      'Serverless Devs (s) is not installed: run npm install (@serverless-devs/s is a devDependency)\n',
    );
    return 1;
  }
  return runServerlessDevs(s, ['deploy', '-y', '-t', values.template], env);
}

/** Run `s`, showing its output as it comes, and explain the failure this kind of machine always has. */
function runServerlessDevs(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    const child = spawn(bin, args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
    let output = '';
    const tee = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString('utf8');
      stream.write(chunk);
    };
    child.stdout!.on('data', tee(process.stdout));
    child.stderr!.on('data', tee(process.stderr));
    child.on('error', (error) => {
      process.stderr.write(`could not run ${bin}: ${error.message}\n`);
      done(1);
    });
    child.on('close', (code) => {
      if (code !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo/.test(output)) {
        const host = /ENOTFOUND (\S+)/.exec(output)?.[1] ?? 'the Serverless Devs registry';
        process.stderr.write(
          `\ns deploy could not reach ${host}: Serverless Devs downloads its fc3 component from there ` +
            `before it deploys anything, and this machine has no route to it. Nothing was changed in the cloud. ` +
            `Run npm run deploy where the internet is reachable (the check above passed; --plan shows what it will do).\n`,
        );
      }
      done(code ?? 1);
    });
  });
}

export async function layerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      path: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: 'dist/layers' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [sub, name] = positionals;
  if (values.help || sub !== 'build' || !name) {
    (values.help ? process.stdout : process.stderr).write(LAYER_USAGE);
    return values.help ? 0 : 2;
  }
  const paths: Record<string, string> = {};
  for (const p of values.path) {
    const m = /^([\w-]+)=(.+)$/.exec(p);
    if (!m) {
      process.stderr.write(`--path ${p}: expected BIN=/path/to/bin\n`);
      return 2;
    }
    paths[m[1]!] = resolve(m[2]!);
  }
  try {
    const { file, manifest, bytes } = buildLayer(name, { outDir: resolve(values.out), paths });
    console.log(`${file}: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${manifest.files.length} files`);
    for (const f of manifest.files.filter((x) => x.version)) console.log(`  /opt/${f.path}: ${f.version}`);
    console.log(`publish it with infra/: layers = { "${name}" = "${file}" }`);
    return 0;
  } catch (error) {
    if (error instanceof LayerError) {
      process.stderr.write(`layer ${name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
