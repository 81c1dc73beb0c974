import type { RdsBackupState } from '../state.ts';
import type { ActionContext } from './context.ts';
import { COPY_MS, copyBackup } from './rds-cross.ts';

/** Finished tasks become backup sets, the way the service lists them once a job completes. */
export function settle(ctx: ActionContext): void {
  const { state, now } = ctx;
  for (const task of Object.values(state.rds.tasks)) {
    if (task.createdAt + task.durationMs > now || task.settled) continue;
    task.settled = true;
    const backup: RdsBackupState = {
      id: task.backupId,
      instanceId: task.instanceId,
      status: task.fails ? 'Failed' : 'Success',
      start: task.createdAt,
      end: task.createdAt + task.durationMs,
      method: task.method,
      mode: 'Manual',
      size: task.fails ? 0 : 5 * 1024 ** 3,
      storeStatus: 'Enabled',
    };
    state.rds.backups[task.backupId] = backup;
    // Cross-region backup copies each backup as it completes; the copy takes a while to arrive.
    const db = state.rds.instances[task.instanceId];
    if (db) copyBackup(state, ctx.region, db, backup, backup.end + COPY_MS);
  }
}
