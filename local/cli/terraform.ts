import { parseArgs } from 'node:util';
import { operatorKey, operatorOptions, type Route, signedCall } from './signed-call.ts';

const USAGE = `usage: fc-devops terraform <command> <workspace> [plan-id] [options]
  status <workspace>                    lock holder, state version, the last plans
  plan <workspace> --commit SHA [--ref REF]
                                        plan the workspace at a commit now
  show <workspace> <plan-id>            one plan and its summary
  approve <workspace> <plan-id>         approve it (another key than the one that asked; the last approval applies it)
  reject <workspace> <plan-id> [--reason TEXT]
  apply <workspace> <plan-id>           apply exactly that plan (refused, saying why, when it is stale)
  discard <workspace> <plan-id> [--reason TEXT]
  unlock <workspace> [--reason TEXT]    force-unlock the workspace and its state (audited)
options: --url (default $FC_DEVOPS_TERRAFORM_URL, else the terraform function of the local runtime fc-devops dev runs)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME`;

export async function terraformCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...operatorOptions('FC_DEVOPS_TERRAFORM_URL', 'terraform'),
      commit: { type: 'string' },
      ref: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const [command, workspace, planId] = positionals;
  if (!command || !workspace) {
    console.error(USAGE);
    return 2;
  }
  const key = operatorKey(values);
  if (typeof key === 'string') {
    console.error(key);
    return 2;
  }
  const ws = `/workspaces/${encodeURIComponent(workspace)}`;
  const plan = `${ws}/plans/${encodeURIComponent(planId ?? '')}`;
  const reason = values.reason ? { reason: values.reason } : {};
  const routes: Record<string, Route | undefined> = {
    status: { method: 'GET', path: ws },
    plan: values.commit
      ? {
          method: 'POST',
          path: `${ws}/plans`,
          body: { commit: values.commit, ...(values.ref ? { ref: values.ref } : {}) },
        }
      : undefined,
    show: { method: 'GET', path: plan },
    approve: { method: 'POST', path: `${plan}/approve`, body: {} },
    reject: { method: 'POST', path: `${plan}/reject`, body: reason },
    apply: { method: 'POST', path: `${plan}/apply`, body: {} },
    discard: { method: 'POST', path: `${plan}/discard`, body: reason },
    unlock: { method: 'POST', path: `${ws}/unlock`, body: reason },
  };
  if (!Object.hasOwn(routes, command)) {
    console.error(`unknown terraform command "${command}"\n${USAGE}`);
    return 2;
  }
  const route = routes[command];
  const needsPlan = ['show', 'approve', 'reject', 'apply', 'discard'].includes(command);
  if (!route || (needsPlan && !planId)) {
    console.error(
      command === 'plan'
        ? 'terraform plan needs --commit <full commit id>'
        : `terraform ${command} needs <workspace> <plan-id>`,
    );
    return 2;
  }
  return signedCall(values.url, route, key);
}
