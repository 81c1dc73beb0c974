import { createRequire } from 'node:module';
import { ConfigError } from '../../shared/runtime/errors.ts';
import { benchCommand } from './bench.ts';
import { CALL_USAGE, callCommand } from './call.ts';
import { buildCommand, configCommand, devCommand, invokeCommand, sendCommand } from './commands.ts';
import { DEPLOY_USAGE, deployCommand, LAYER_USAGE, layerCommand } from './deploy.ts';
import { USAGE as ENV_USAGE, envCommand } from './env.ts';
import { USAGE as MONITOR_USAGE, monitorCommand } from './monitor.ts';
import { BACKUP_USAGE, backupCommand, IMAGE_USAGE, imageCommand } from './ops.ts';
import { USAGE as POLICIES_USAGE, policiesCommand } from './policies.ts';
import { USAGE as RELEASE_USAGE, releaseCommand } from './release.ts';
import { USAGE as RUNS_USAGE, runsCommand } from './runs.ts';
import { USAGE as SCALE_USAGE, scaleCommand } from './scale.ts';
import { USAGE as TERRAFORM_USAGE, terraformCommand } from './terraform.ts';
import { unreachable } from './unreachable.ts';
import {
  BENCH_USAGE,
  BUILD_USAGE,
  CONFIG_USAGE,
  CONSOLE_USAGE,
  DEV_USAGE,
  INVOKE_USAGE,
  SEND_USAGE,
} from './usages.ts';

const USAGE = `fc-devops <command> [--help]

  dev                 run every function locally (npm start): triggers, the FC invoke API, the sandbox cloud
  build               bundle functions/*/index.ts into dist/<name>/
  config check [file] validate fc-devops.yaml (and that every \${env:NAME} is set)
  invoke <function>   invoke a function of the running local runtime (--example <trigger>: a realistic event)
  send oss-put|git-push|alarm
                      an OSS upload, a signed git push, a CloudMonitor alarm callback
  call <METHOD> <path> [--data JSON]
                      sign any request to an fc-devops endpoint
  runs                recent runs; runs show <id> [--follow]; runs cancel <id>
  release ...         promote, roll back, freeze and approve release targets
  image build|prune   rebuild a commit of an image pipeline; prune images (a dry run unless --apply)
  backup run|regions  rotate or drill a backup policy now (a dry run unless --apply); what
                      each of its regions holds, and what is behind
  terraform ...       plan, approve and apply Terraform workspaces
  env ...             environments from workspace templates, with a time to live
  scale ...           ESS groups' and ACK node pools' capacity
  monitor ...         probes of the team's applications, their history and silences
  console             where the web console is (sign in with an operator key)
  deploy [--plan]     check everything, build, and deploy with Serverless Devs
  layer build <name>  an FC layer archive of binaries on this machine
  policies [--check]  one least-privilege RAM policy per function
  bench               cold starts, bundle sizes and throughput

Every command takes --help. Operator commands sign with $FC_DEVOPS_KEY_ID and $FC_DEVOPS_KEY_SECRET
and take --url; locally they find the runtime that fc-devops dev runs on .fc-devops ($FC_DEVOPS_STATE).
fc-devops --version prints the version.
`;

interface Command {
  run: (args: string[]) => Promise<number>;
  usage: string;
}

const COMMANDS: Record<string, Command> = {
  dev: { run: devCommand, usage: DEV_USAGE },
  build: { run: buildCommand, usage: BUILD_USAGE },
  config: { run: configCommand, usage: CONFIG_USAGE },
  invoke: { run: invokeCommand, usage: INVOKE_USAGE },
  send: { run: sendCommand, usage: SEND_USAGE },
  call: { run: callCommand, usage: CALL_USAGE },
  runs: { run: runsCommand, usage: RUNS_USAGE },
  release: { run: releaseCommand, usage: RELEASE_USAGE },
  image: { run: imageCommand, usage: IMAGE_USAGE },
  backup: { run: backupCommand, usage: BACKUP_USAGE },
  terraform: { run: terraformCommand, usage: TERRAFORM_USAGE },
  env: { run: envCommand, usage: ENV_USAGE },
  scale: { run: scaleCommand, usage: SCALE_USAGE },
  monitor: { run: monitorCommand, usage: MONITOR_USAGE },
  console: { run: async () => consoleCommand(), usage: CONSOLE_USAGE },
  deploy: { run: deployCommand, usage: DEPLOY_USAGE },
  layer: { run: layerCommand, usage: LAYER_USAGE },
  policies: { run: policiesCommand, usage: POLICIES_USAGE },
  bench: { run: benchCommand, usage: BENCH_USAGE },
};

export function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

async function consoleCommand(): Promise<number> {
  const { localRuntimeUrl } = await import('./local-urls.ts');
  console.log(`${process.env.FC_DEVOPS_URL ?? localRuntimeUrl()}/console/`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    console.log(`fc-devops ${version()}`);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    const entry =
      topic === undefined ? undefined : Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
    process.stdout.write(entry ? `${entry.usage.trimEnd()}\n` : USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const entry = COMMANDS[command]!;
  // --help anywhere before a lone "--" is a request for this command's usage, never an argument.
  const own = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'));
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`${entry.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await entry.run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error:\n${error.message}\n`);
      return 1;
    }
    const down = unreachable(error);
    if (down) {
      process.stderr.write(`${down}\n`);
      return 1;
    }
    const code = (error as { code?: string }).code;
    // parseArgs's own errors (an unknown option, a missing value) are usage errors.
    if (code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${entry.usage.trimEnd()}\n`);
      return 2;
    }
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}
