import type * as z from 'zod/mini';
import { ParseError } from '../runtime/errors.ts';
import { isRecord } from '../util/records.ts';
import { EnvelopeCheck } from './envelope-check.ts';
import { decodeJson, parseWith } from './parse.ts';

/**
 * The event an FC3 timer trigger delivers. Example (FC docs):
 * `{ "triggerTime": "2023-12-26T07:49:00Z", "triggerName": "timer-trigger", "payload": "awesome-fc" }`
 * `payload` is the trigger's configured message (a string, at most 128 KB); it may be absent or empty.
 */
export interface TimerEvent {
  triggerTime: string;
  triggerName: string;
  payload?: string;
}

/** Check a timer event's envelope. */
export function checkTimerEvent(value: unknown): TimerEvent {
  const check = new EnvelopeCheck();
  const event = check.object(value, []);
  if (!event) throw new ParseError('timer event', check.issues);
  const triggerTime = check.string(event.triggerTime, ['triggerTime'], { datetime: true });
  const triggerName = check.string(event.triggerName, ['triggerName'], { min: 1 });
  const payload = check.optionalString(event.payload, ['payload']);
  if (check.issues.length) throw new ParseError('timer event', check.issues);
  return {
    triggerTime: triggerTime!,
    triggerName: triggerName!,
    ...(payload !== undefined ? { payload } : {}),
  };
}

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
  const event = checkTimerEvent(value);
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
