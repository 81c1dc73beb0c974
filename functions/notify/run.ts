import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { RunHandle } from '../../shared/runtime/once.ts';
import { deliver } from './deliver.ts';
import { type DeliveryRecord, Notifier } from './notifier.ts';

/**
 * One notify run: do `work` (accept an event), then send whatever is due, and record every delivery
 * with the run. A delivery that failed for good also gets a failed run of its own, so
 * `fc-devops runs --status failed` shows it; the event itself is not retried (that would send the
 * other channels' messages twice).
 */
export async function notifyRun(
  ctx: HandlerContext,
  run: RunHandle,
  work: (n: Notifier) => Promise<DeliveryRecord[]>,
): Promise<{ deliveries: DeliveryRecord[] }> {
  const store = ctx.store;
  const notifier = new Notifier({
    notifications: ctx.config.notifications,
    store,
    now: ctx.now,
    log: run.log,
    send: (channel, config, message) =>
      deliver(channel, config, message, { env: process.env, now: ctx.now, mail: () => ctx.cloud.mail }),
  });
  const deliveries = [...(await work(notifier)), ...(await notifier.flush())];
  if (deliveries.length > 0) {
    await run.append(
      deliveries
        .map(
          (d) =>
            `${d.status} ${d.channel} events=${d.events}${d.attempts ? ` attempts=${d.attempts}` : ''}${d.error ? ` error=${d.error}` : ''}\n`,
        )
        .join(''),
    );
  }
  for (const failed of deliveries.filter((d) => d.status === 'failed' || d.status === 'fallback-failed')) {
    const run = await store.createRun({
      kind: 'notify.delivery',
      subject: failed.channel,
      correlationId: ctx.correlationId,
    });
    await store.updateRun(run.id, {
      status: 'failed',
      error: {
        channel: failed.channel,
        attempts: failed.attempts ?? 0,
        message: failed.error ?? 'delivery failed',
      },
    });
  }
  return { deliveries };
}
