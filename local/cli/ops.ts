import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { callRoute, operatorOptions, type Route } from './signed-call.ts';

export const BACKUP_USAGE = `usage: fc-devops backup run <policy> [--apply] [--drill] | backup regions <policy>
  run <policy>            what a rotation of the policy would do now: the plan per instance (a dry run)
  run <policy> --apply    rotate now (a backup, then retention); answers with the jobs it queued
  run <policy> --drill    start a restore drill now (with --apply; without it, what the drill would do)
  regions <policy>        what each of the policy's regions holds, the drills' times side by side, what is behind
options: --url (default $FC_DEVOPS_BACKUP_URL, else the backup-rotate function of the local runtime)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME
Follow the runs with fc-devops runs --kind backup.rotate, then fc-devops runs show <id> --follow.`;

export const IMAGE_USAGE = `usage: fc-devops image <command> [options]
  build <pipeline> <commit> [--ref REF]   build that commit of the pipeline again (a signed rebuild)
  prune                                   what pruning would delete now, and why each other image is kept
  prune --apply                           prune now
options: --url (default $FC_DEVOPS_IMAGE_BUILD_URL / $FC_DEVOPS_IMAGE_PRUNE_URL, else the functions of the local runtime)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME`;

// Each invocation of a command that starts work is its own request: a fresh Idempotency-Key, so
// running it again runs again, and a retry of the same call (same key) does not.
const fresh = () => ({ 'idempotency-key': randomUUID() });

export async function backupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...operatorOptions('FC_DEVOPS_BACKUP_URL', 'backup-rotate'),
      apply: { type: 'boolean', default: false },
      drill: { type: 'boolean', default: false },
    },
  });
  const [command, policy] = positionals;
  if (!command || !policy) {
    console.error(BACKUP_USAGE);
    return 2;
  }
  const routes: Record<string, Route> = {
    run: {
      method: 'POST',
      path: `/policies/${policy}/run`,
      body: { dryRun: !values.apply, drill: values.drill },
      headers: fresh(),
    },
    regions: { method: 'GET', path: `/policies/${policy}/regions` },
  };
  return callRoute('backup', command, routes, BACKUP_USAGE, values);
}

export async function imageCommand(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === 'build') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        ...operatorOptions('FC_DEVOPS_IMAGE_BUILD_URL', 'image-build'),
        ref: { type: 'string' },
      },
    });
    const [pipeline, commit] = positionals;
    if (!pipeline || !commit) {
      console.error(IMAGE_USAGE);
      return 2;
    }
    const route: Route = {
      method: 'POST',
      path: `/pipelines/${pipeline}/builds`,
      body: { commit, ...(values.ref ? { ref: values.ref } : {}) },
      headers: fresh(),
    };
    return callRoute('image', 'build', { build: route }, IMAGE_USAGE, values);
  }
  if (command === 'prune') {
    const { values } = parseArgs({
      args: rest,
      options: {
        ...operatorOptions('FC_DEVOPS_IMAGE_PRUNE_URL', 'image-prune'),
        apply: { type: 'boolean', default: false },
      },
    });
    const route: Route = { method: 'POST', path: '/run', body: { dryRun: !values.apply }, headers: fresh() };
    return callRoute('image', 'prune', { prune: route }, IMAGE_USAGE, values);
  }
  console.error(command ? `unknown image command "${command}"\n${IMAGE_USAGE}` : IMAGE_USAGE);
  return 2;
}
