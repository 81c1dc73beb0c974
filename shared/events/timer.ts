import * as z from 'zod/mini';
import { isRecord } from '../util/records.ts';
import { decodeJson, lazySchema, parseWith } from './parse.ts';

/**
 * The event an FC3 timer trigger delivers. Example (FC docs):
 * `{ "triggerTime": "2023-12-26T07:49:00Z", "triggerName": "timer-trigger", "payload": "awesome-fc" }`
 * `payload` is the trigger's configured message (a string, at most 128 KB); it may be absent or empty.
 */
export const TimerEventSchema = lazySchema(() =>
  z.object({
    triggerTime: z.iso.datetime({ offset: true }),
    triggerName: z.string().check(z.minLength(1)),
    payload: z.optional(z.string()),
  }),
);
export type TimerEvent = z.infer<typeof TimerEventSchema>;

export interface TimerInput<P> {
  triggerTime: Date;
  triggerName: string;
  /** The trigger payload parsed as JSON by the function's schema (undefined when there is none). */
  payload: P;
}

export function isTimerEvent(value: unknown): boolean {
  return isRecord(value) && 'triggerTime' in value && 'triggerName' in value;
}

/** Parse a timer event and, when a schema is given, its JSON payload (errors point at `payload.…`). */
export function parseTimerEvent<P extends z.ZodMiniType>(
  value: unknown,
  payloadSchema?: P,
): TimerInput<z.infer<P>> {
  const event = parseWith(TimerEventSchema, value, 'timer event');
  let payload: unknown;
  if (payloadSchema) {
    const raw =
      event.payload === undefined || event.payload === ''
        ? undefined
        : decodeJson(event.payload, 'timer payload');
    payload = parseWith(payloadSchema, raw, 'timer payload', ['payload']);
  }
  return {
    triggerTime: new Date(event.triggerTime),
    triggerName: event.triggerName,
    payload: payload as z.infer<P>,
  };
}
