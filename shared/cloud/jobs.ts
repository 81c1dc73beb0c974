import { createJob, type JobMessage } from '../events/job.ts';
import { sha256Hex } from '../util/hash.ts';
import { CloudError } from './errors.ts';
import type { FcClient } from './fc.ts';

/** FC async task ids: letters, digits, `_` and `-`; a hash keeps a key's id stable and short. */
export const taskIdOf = (idempotencyKey: string) => `fcd-${sha256Hex(idempotencyKey).slice(0, 48)}`;

/**
 * The Jobs port: hand a job to a function by async invocation, once per idempotency key. The FC
 * task id is derived from the key, so a second enqueue of the same key (a retried tick, a
 * redelivered webhook) is refused by FC (`AsyncTaskAlreadyExist`) instead of running the job again.
 */
export async function enqueueJob<P>(
  fc: Pick<FcClient, 'invokeAsync'>,
  functionName: string,
  job: { kind: string; idempotencyKey: string; payload: P; correlationId?: string },
): Promise<JobMessage<P>> {
  const { message, bytes } = createJob(job);
  try {
    await fc.invokeAsync(functionName, bytes, { taskId: taskIdOf(job.idempotencyKey) });
  } catch (error) {
    // An earlier attempt already enqueued it: FC kept the first.
    if (!(error instanceof CloudError && error.upstreamCode === 'AsyncTaskAlreadyExist')) throw error;
  }
  return message;
}
