import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AsyncMessage, AttemptOutcome } from './async-queue.ts';
import type { LocalRuntime } from './runtime.ts';

export interface DestinationRecord {
  destination: string;
  requestId: string;
  functionName: string;
  condition: string;
  /** The FC function that received it, or the file it was appended to. */
  deliveredTo: string;
  payload: DestinationPayload;
}

/** What a destination receives: the invocation's context, request and response. */
export interface DestinationPayload {
  timestamp: number;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: string;
    approximateInvokeCount: number;
  };
  requestPayload: string;
  responseContext: { statusCode: number; functionError: string };
  responsePayload: string;
}

export function destinationPayload(
  runtime: Pick<LocalRuntime, 'region' | 'accountId'>,
  message: AsyncMessage,
  condition: string,
  outcome: AttemptOutcome | undefined,
): DestinationPayload {
  return {
    timestamp: Date.now(),
    requestContext: {
      requestId: message.requestId,
      functionArn: `acs:fc:${runtime.region}:${runtime.accountId}:functions/${message.functionName}`,
      condition,
      approximateInvokeCount: message.attempts,
    },
    requestPayload: Buffer.from(message.payload, 'base64').toString('utf8'),
    responseContext: {
      statusCode: outcome?.ok ? 200 : 500,
      functionError: outcome?.ok ? '' : (outcome?.error?.errorType ?? condition),
    },
    responsePayload: outcome?.response ?? '',
  };
}

/**
 * Deliver a finished async invocation to its destination: an FC function destination
 * (`acs:fc:<region>:<account>:functions/<name>`) is invoked asynchronously; MNS, EventBridge and
 * RocketMQ destinations are appended to `<stateDir>/destinations/<kind>.jsonl` for inspection.
 */
export async function deliverDestination(
  runtime: LocalRuntime,
  message: AsyncMessage,
  condition: string,
  outcome: AttemptOutcome | undefined,
  destination: string,
): Promise<DestinationRecord> {
  const payload = destinationPayload(runtime, message, condition, outcome);
  const target = /^acs:fc:[^:]*:[^:]*:(?:services\/[^/]+\/)?functions\/([^/]+)/.exec(destination)?.[1];
  let deliveredTo: string;
  if (target && runtime.functions.has(target)) {
    await runtime.invokeAsync(target, Buffer.from(JSON.stringify(payload)), {
      source: `destination:${message.functionName}`,
    });
    deliveredTo = `function:${target}`;
  } else {
    const dir = join(runtime.options.stateDir, 'destinations');
    mkdirSync(dir, { recursive: true });
    const kind = destination.split(':')[1] ?? 'unknown';
    const file = join(dir, `${kind}.jsonl`);
    appendFileSync(file, `${JSON.stringify({ destination, ...payload })}\n`);
    deliveredTo = file;
  }
  return {
    destination,
    requestId: message.requestId,
    functionName: message.functionName,
    condition,
    deliveredTo,
    payload,
  };
}
