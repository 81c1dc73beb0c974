import { parseArgs } from 'node:util';
import { callRoute, operatorOptions, type Route } from './signed-call.ts';

export const USAGE = `usage: fc-devops env <command> [args] [options]
  create <template> [--ttl 4h] [--var k=v ...] [--commit SHA]
                                  a new environment of a workspace (plans, approval by the template's rule, applies)
  list [--template T] [--all]     the live ones, failed destroys first (--all: destroyed and handled too)
  show <id>                       one environment; its outputs (connection strings) only to its owner
  extend <id> --by 2h             later expiry, at most the template's maxTtlHours from its creation
  destroy <id> [--reason TEXT]    destroy it now
  handled <id> --reason TEXT      a failed destroy was cleaned up by hand (needs the destroy role)
durations: 90m, 4h, 2d, 1h30m
options: --url (default $FC_DEVOPS_TERRAFORM_URL, else the terraform function of the local runtime fc-devops dev runs)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME`;

export async function envCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...operatorOptions('FC_DEVOPS_TERRAFORM_URL', 'terraform'),
      ttl: { type: 'string' },
      var: { type: 'string', multiple: true },
      commit: { type: 'string' },
      template: { type: 'string' },
      all: { type: 'boolean', default: false },
      by: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const [command, arg] = positionals;
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  const variables: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) {
      console.error(`--var ${pair}: expected name=value`);
      return 2;
    }
    variables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const env = `/environments/${encodeURIComponent(arg ?? '')}`;
  const routes: Record<string, Route | string> = {
    create: arg
      ? {
          method: 'POST',
          path: '/environments',
          body: {
            template: arg,
            ...(values.ttl ? { ttl: values.ttl } : {}),
            ...(values.commit ? { commit: values.commit } : {}),
            variables,
          },
        }
      : 'env create needs <template>',
    list: {
      method: 'GET',
      path: '/environments',
      query: {
        ...(values.template ? { template: values.template } : {}),
        ...(values.all ? { all: '1' } : {}),
      },
    },
    show: arg ? { method: 'GET', path: env } : 'env show needs <id>',
    extend:
      arg && values.by
        ? { method: 'POST', path: `${env}/extend`, body: { by: values.by } }
        : 'env extend needs <id> --by <duration>',
    destroy: arg
      ? { method: 'POST', path: `${env}/destroy`, body: values.reason ? { reason: values.reason } : {} }
      : 'env destroy needs <id>',
    handled:
      arg && values.reason
        ? { method: 'POST', path: `${env}/handled`, body: { reason: values.reason } }
        : 'env handled needs <id> --reason TEXT',
  };
  return callRoute('env', command, routes, USAGE, values);
}
