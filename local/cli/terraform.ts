import { parseArgs } from 'node:util';
import { callRoute, operatorOptions, type Route } from './signed-call.ts';

export const USAGE = `usage: fc-devops terraform <command> <workspace> [plan-id] [options]
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
  const ws = `/workspaces/${encodeURIComponent(workspace)}`;
  const plan = `${ws}/plans/${encodeURIComponent(planId ?? '')}`;
  const reason = values.reason ? { reason: values.reason } : {};
  const needsPlan = `terraform ${command} needs <workspace> <plan-id>`;
  const onPlan = (route: Route): Route | string => (planId ? route : needsPlan);
  const routes: Record<string, Route | string> = {
    status: { method: 'GET', path: ws },
    plan: values.commit
      ? {
          method: 'POST',
          path: `${ws}/plans`,
          body: { commit: values.commit, ...(values.ref ? { ref: values.ref } : {}) },
        }
      : 'terraform plan needs --commit <full commit id>',
    show: onPlan({ method: 'GET', path: plan }),
    approve: onPlan({ method: 'POST', path: `${plan}/approve`, body: {} }),
    reject: onPlan({ method: 'POST', path: `${plan}/reject`, body: reason }),
    apply: onPlan({ method: 'POST', path: `${plan}/apply`, body: {} }),
    discard: onPlan({ method: 'POST', path: `${plan}/discard`, body: reason }),
    unlock: { method: 'POST', path: `${ws}/unlock`, body: reason },
  };
  return callRoute('terraform', command, routes, USAGE, values);
}
