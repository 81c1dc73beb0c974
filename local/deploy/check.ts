import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config/load.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';
import { type FunctionSpec, loadProject } from '../runtime/s-yaml.ts';
import { fc3CloudProps } from './fc3-props.ts';
import { comparePolicies, generatePolicies } from './policies.ts';

export interface DeployCheck {
  /** Each stops the deploy: what is wrong and where. */
  problems: string[];
  /** Worth knowing; the deploy goes on. */
  warnings: string[];
  functions: FunctionSpec[];
  config: Config | undefined;
}

/** `${env('NAME')}` and `${env('NAME', '')}` in s.yaml: values the deploy cannot do without. */
export function requiredEnv(templateText: string): string[] {
  const names = new Set<string>();
  for (const m of templateText.matchAll(/\$\{env\(\s*['"](\w+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)\}/g))
    if (!m[2]) names.add(m[1]!);
  return [...names].sort();
}

/** Variables s.yaml reads that a deploy can go without, and what is missing then. */
const OPTIONAL_ENV: Record<string, string> = {
  FC_DEVOPS_FUNCTIONS_URL:
    "the console's pages that ask other functions (releases, Terraform, environments, scaling) say so; runs, backups and the audit log work. Set it to a custom domain that routes /<function>/ to each function.",
};

const problemsOf = (error: unknown): string[] =>
  error instanceof ConfigError ? error.message.split('\n') : [(error as Error).message];

/**
 * Everything `s deploy` would otherwise find out in the middle of a deploy, or never: the
 * configuration the bundles carry, the environment s.yaml reads, the fc3 props the cloud needs, the
 * RAM policies against the code, and how the pieces agree with each other.
 */
export async function checkDeploy(options: {
  root: string;
  template: string;
  configFile: string;
  policiesDir: string;
  env: NodeJS.ProcessEnv;
}): Promise<DeployCheck> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const { root, template, configFile, env } = options;

  let config: Config | undefined;
  if (!existsSync(configFile))
    problems.push(
      `${configFile}: not found. The functions read it beside their bundle in the cloud: copy fc-devops.example.yaml and make it yours.`,
    );
  else
    try {
      config = loadConfig(configFile, { env });
      // Secrets apart: an unset one should not hide how the rest fits together.
      loadConfig(configFile, { requireSecrets: true, env });
    } catch (error) {
      problems.push(...problemsOf(error));
    }

  const missing = requiredEnv(readFileSync(template, 'utf8')).filter(
    (name) => !env[name] && !Object.hasOwn(OPTIONAL_ENV, name),
  );
  for (const [name, why] of Object.entries(OPTIONAL_ENV))
    if (!env[name] && requiredEnv(readFileSync(template, 'utf8')).includes(name))
      warnings.push(`${name} is not set: ${why}`);
  if (missing.length)
    problems.push(
      `${template}: these environment variables are not set: ${missing.join(', ')} (terraform -chdir=infra output -raw deploy_env > deploy.env, secrets yourself)`,
    );

  let functions: FunctionSpec[] = [];
  try {
    functions = loadProject(template, env).functions;
  } catch (error) {
    problems.push(...problemsOf(error));
  }
  // The same prop is usually wrong in every function (one unset variable): say it once, with whose.
  const byIssue = new Map<string, string[]>();
  for (const fn of functions) {
    const parsed = fc3CloudProps.safeParse(fn.props);
    for (const issue of parsed.error?.issues ?? []) {
      const key = `props.${issue.path.join('.')}: ${issue.message}`;
      byIssue.set(key, [...(byIssue.get(key) ?? []), fn.resource]);
    }
    if (
      !existsSync(join(root, 'functions', fn.resource, 'index.ts')) &&
      !existsSync(join(fn.codeDir, 'index.mjs'))
    )
      problems.push(
        `${template} resources.${fn.resource}: no functions/${fn.resource}/index.ts to build its code from`,
      );
  }
  for (const [key, resources] of byIssue) {
    const [path, ...message] = key.split(': ');
    const whose = resources.length === functions.length ? 'every function' : resources.join(', ');
    problems.push(`${template} ${path} (${whose}): ${message.join(': ')}`);
  }

  if (config && functions.length) {
    const regions = [...new Set(functions.map((f) => f.region))];
    if (regions.length !== 1 || regions[0] !== config.region)
      problems.push(
        `${configFile} region ${config.region} but ${template} deploys to ${regions.join(', ')}: the functions would manage another region than they run in`,
      );
    if (config.accountId && env.FC_DEVOPS_ACCOUNT_ID && config.accountId !== env.FC_DEVOPS_ACCOUNT_ID)
      problems.push(
        `${configFile} accountId ${config.accountId} but FC_DEVOPS_ACCOUNT_ID is ${env.FC_DEVOPS_ACCOUNT_ID}: the RAM policies would name another account`,
      );
    const bundles = config.terraform.bundles?.bucket;
    if (bundles && env.FC_DEVOPS_BUCKET && bundles !== env.FC_DEVOPS_BUCKET)
      warnings.push(
        `${configFile} terraform.bundles.bucket is ${bundles}, but the OSS trigger in ${template} listens on ${env.FC_DEVOPS_BUCKET}: uploads there will not be planned`,
      );
    try {
      const { policies } = await generatePolicies(
        root,
        config,
        functions.map((f) => f.name),
      );
      const stale = comparePolicies(options.policiesDir, policies);
      if (stale.length)
        problems.push(
          `the RAM policies are not what the code and ${configFile} need (${stale.join('; ')}): run fc-devops policies --config ${configFile}, then terraform -chdir=infra apply`,
        );
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const url = env.DATABASE_URL;
  if (url) {
    const reach = await reachable(url);
    if (reach) warnings.push(reach);
  }
  return { problems, warnings, functions, config };
}

/** Whether DATABASE_URL's host answers on its port from here; a message when it does not. */
export async function reachable(url: string, timeoutMs = 3000): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'DATABASE_URL is not a URL (postgres://user:password@host:5432/database)';
  }
  const host = u.hostname;
  const port = Number(u.port || 5432);
  const ok = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (ok) return undefined;
  return (
    `DATABASE_URL: ${host}:${port} does not answer from this machine. An RDS instance in the functions' ` +
    `VPC answers only from inside it, so this is expected when you deploy from outside; if the functions ` +
    `cannot reach it either, check the instance's whitelist (infra/store.tf) and the vSwitch.`
  );
}
