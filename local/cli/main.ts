import { ConfigError } from '../../shared/runtime/errors.ts';
import { benchCommand } from './bench.ts';
import { buildCommand, configCommand, devCommand, invokeCommand, sendCommand } from './commands.ts';
import { deployCommand, layerCommand } from './deploy.ts';
import { envCommand } from './env.ts';
import { monitorCommand } from './monitor.ts';
import { policiesCommand } from './policies.ts';
import { releaseCommand } from './release.ts';
import { runsCommand } from './runs.ts';
import { scaleCommand } from './scale.ts';
import { terraformCommand } from './terraform.ts';

const USAGE = `fc-devops <command>

  dev [--template s.yaml] [--config fc-devops.yaml] [--port 8787] [--sandbox-port 8788] [--state .fc-devops] [--no-watch]
        run every function locally: HTTP and timer and OSS triggers, the FC invoke API, async queue
        (one dev per state directory)
  build [--root .]              bundle functions/*/index.ts into dist/<name>/index.mjs
  config check [file]           validate fc-devops.yaml (and that every \${env:NAME} is set)
  invoke <function> [--event file|-] [--async] [--url URL]  (default: the runtime dev runs on .fc-devops)
                                invoke a function of the running local runtime
  send oss-put --bucket B --key K [--file F] [--url ...]
                                write an object to a local bucket (fires its OSS triggers)
  send git-push --repo PATH [--host github|gitlab|codeup|gitee] [--form] [--delivery ID] [--url ...]
                                a signed push of the repository's latest commit to git-webhook
  runs [--kind K] [--subject S] [--status S] [--limit N]
                                recent runs, newest first
  runs show <run-id> [--tail BYTES]
                                one run with its log
  release status|history|promote|rollback|freeze|unfreeze|approve|reject ...
                                operate release targets (signed requests; see fc-devops release)
  terraform status|plan|show|approve|reject|apply|discard|unlock ...
                                plan and apply Terraform workspaces (signed requests; see fc-devops terraform)
  scale status|set|freeze|unfreeze|preview ...
                                set ESS groups' and ACK node pools' capacity (signed requests; see fc-devops scale)
  monitor status|history|silences|silence|unsilence ...
                                probes of the team's applications, their history and silences (see fc-devops monitor)
  send alarm --target T [--state ALERT|OK] [--metric M]
                                a CloudMonitor alarm callback to the scale function
  env create|list|show|extend|destroy|handled ...
                                environments made from Terraform workspaces, with a time to live (see fc-devops env)
  deploy [--plan] [--env-file deploy.env]
                                check everything, build, and run Serverless Devs' s deploy (--plan: print, call nothing)
  layer build <git|packer|terraform|pg-clients|mysql-clients> [--path BIN=/path]...
                                an FC layer archive (bin/, lib/, manifest) of binaries on this machine
  policies [--config F] [--check]
                                one least-privilege RAM policy per function, from its code (infra/policies)
  bench                         bundle sizes and cold starts of every function
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dev':
        return await devCommand(rest);
      case 'build':
        return await buildCommand(rest);
      case 'config':
        return await configCommand(rest);
      case 'invoke':
        return await invokeCommand(rest);
      case 'send':
        return await sendCommand(rest);
      case 'release':
        return await releaseCommand(rest);
      case 'terraform':
        return await terraformCommand(rest);
      case 'scale':
        return await scaleCommand(rest);
      case 'monitor':
        return await monitorCommand(rest);
      case 'env':
        return await envCommand(rest);
      case 'runs':
        return await runsCommand(rest);
      case 'deploy':
        return await deployCommand(rest);
      case 'layer':
        return await layerCommand(rest);
      case 'policies':
        return await policiesCommand(rest);
      case 'bench':
        return await benchCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error:\n${error.message}\n`);
      return 1;
    }
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}
