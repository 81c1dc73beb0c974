import { randomUUID } from 'node:crypto';
import type { FcClient } from '../cloud/fc.ts';
import { createJob } from '../events/job.ts';
import { parseWith } from '../events/parse.ts';
import { type NotifyEvent, NotifyEventSchema } from './event.ts';

export type EventInput = Omit<NotifyEvent, 'id' | 'time' | 'details' | 'links' | 'labels'> &
  Partial<Pick<NotifyEvent, 'id' | 'time' | 'details' | 'links' | 'labels'>>;

/** The Events port: what any function uses to tell people what happened. */
export interface Events {
  publish(input: EventInput): Promise<NotifyEvent>;
}

/** Publish by async invocation of the `notify` function, one job per event (its id is the idempotency key). */
export function eventsVia(
  fc: Pick<FcClient, 'invokeAsync'>,
  options: { functionName?: string; now?: () => Date } = {},
): Events {
  return {
    async publish(input) {
      const event = parseWith(
        NotifyEventSchema,
        { id: randomUUID(), time: (options.now?.() ?? new Date()).toISOString(), ...input },
        'notify event',
      );
      const { bytes } = createJob({
        kind: 'notify.event',
        idempotencyKey: `event:${event.id}`,
        payload: event,
        ...(event.correlationId ? { correlationId: event.correlationId } : {}),
      });
      await fc.invokeAsync(options.functionName ?? 'notify', bytes);
      return event;
    },
  };
}
