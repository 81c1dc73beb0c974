import { parseArgs } from 'node:util';
import { callRoute, operatorOptions, type Route } from './signed-call.ts';

export const USAGE = `usage: fc-devops release <command> [options]
  status <target>                     the target's current release, alias, channel or Deployment (with its
                                      revisions), and whether it is frozen
  history <target>                    its promotes and rollbacks, newest first
  promote <target> [--version N] [--dry-run]              an FC alias: a published version
  promote <target> [--image REF | --tag TAG] [--dry-run]  a Deployment: an image, a tag of its repository,
                                                          or (neither) the image channel's current image
  rollback <target> [--revision N] [--dry-run] [--reason TEXT]
                                      --revision: a Deployment's revision (default: the previous one)
  freeze <target> --reason TEXT       refuse promotes (when a change cannot be undone)
  unfreeze <target>
  approve <approval-id> --token T [--reason TEXT]
  reject <approval-id> --token T [--reason TEXT]
options: --url (default $FC_DEVOPS_RELEASE_URL, else the release function of the local runtime fc-devops dev runs)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME
Requests are signed FCD-HMAC-SHA256 (see shared/auth/signing.ts).`;

export async function releaseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...operatorOptions('FC_DEVOPS_RELEASE_URL', 'release'),
      version: { type: 'string' },
      image: { type: 'string' },
      tag: { type: 'string' },
      revision: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      reason: { type: 'string' },
      token: { type: 'string' },
    },
  });
  const [command, subject] = positionals;
  if (!command || !subject) {
    console.error(USAGE);
    return 2;
  }
  const routes: Record<string, Route> = {
    status: { method: 'GET', path: `/targets/${subject}` },
    history: { method: 'GET', path: `/targets/${subject}/history` },
    promote: {
      method: 'POST',
      path: `/targets/${subject}/promote`,
      body: {
        ...(values.version ? { version: values.version } : {}),
        ...(values.image ? { image: values.image } : {}),
        ...(values.tag ? { tag: values.tag } : {}),
        dryRun: values['dry-run'],
      },
    },
    rollback: {
      method: 'POST',
      path: `/targets/${subject}/rollback`,
      body: {
        dryRun: values['dry-run'],
        ...(values.reason ? { reason: values.reason } : {}),
        // A revision that is not a number goes as given, for the endpoint to refuse by name.
        ...(values.revision
          ? { revision: Number.isNaN(Number(values.revision)) ? values.revision : Number(values.revision) }
          : {}),
      },
    },
    freeze: { method: 'POST', path: `/targets/${subject}/freeze`, body: { reason: values.reason ?? '' } },
    unfreeze: { method: 'POST', path: `/targets/${subject}/unfreeze`, body: {} },
    approve: {
      method: 'POST',
      path: `/approvals/${subject}/approve`,
      body: { token: values.token ?? '', ...(values.reason ? { reason: values.reason } : {}) },
    },
    reject: {
      method: 'POST',
      path: `/approvals/${subject}/reject`,
      body: { token: values.token ?? '', ...(values.reason ? { reason: values.reason } : {}) },
    },
  };
  return callRoute('release', command, routes, USAGE, values);
}
