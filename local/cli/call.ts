import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { localRuntimeUrl } from './local-urls.ts';
import { operatorKey, signedCall } from './signed-call.ts';

export const CALL_USAGE = `usage: fc-devops call <METHOD> <path> [--data JSON|@file|-] [--query NAME=VALUE]... [--idempotency-key K]
  Sign any request to an fc-devops endpoint (FCD-HMAC-SHA256) and print the answer.
  <path>   /<function>/<path below its HTTP trigger> on the local runtime, e.g.
           fc-devops call GET /release/targets/api-prod
           fc-devops call POST /backup-rotate/policies/orders-db/run --data '{"dryRun":true}'
           With --url (a function's HTTP trigger in the cloud) it is the path below that trigger.
options: --url URL (default: the local runtime fc-devops dev runs; $FC_DEVOPS_URL)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME
Exit status 0 for a 2xx answer, else 1.`;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export async function callCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string', default: process.env.FC_DEVOPS_KEY_ID },
      'secret-env': { type: 'string', default: 'FC_DEVOPS_KEY_SECRET' },
      data: { type: 'string' },
      query: { type: 'string', multiple: true, default: [] },
      'idempotency-key': { type: 'string' },
    },
  });
  const [rawMethod, rawPath] = positionals;
  const method = rawMethod?.toUpperCase() as (typeof METHODS)[number] | undefined;
  if (!method || !rawPath || positionals.length > 2) {
    console.error(CALL_USAGE);
    return 2;
  }
  if (!METHODS.includes(method)) {
    console.error(`call: ${rawMethod} is not a method (one of ${METHODS.join(', ')})`);
    return 2;
  }
  const [pathPart = '', search = ''] = rawPath.split('?', 2);
  const path = pathPart.startsWith('/') ? pathPart : `/${pathPart}`;
  const query: Record<string, string> = Object.fromEntries(new URLSearchParams(search));
  for (const pair of values.query) {
    const at = pair.indexOf('=');
    if (at <= 0) {
      console.error(`call: --query ${pair} is not NAME=VALUE`);
      return 2;
    }
    query[pair.slice(0, at)] = pair.slice(at + 1);
  }
  let body: string | undefined;
  if (values.data !== undefined) {
    const text =
      values.data === '-'
        ? readFileSync(0, 'utf8')
        : values.data.startsWith('@')
          ? readFileSync(values.data.slice(1), 'utf8')
          : values.data;
    try {
      JSON.parse(text);
    } catch (error) {
      console.error(`call: --data is not JSON: ${(error as Error).message}`);
      return 2;
    }
    body = text;
  }
  // Locally the first segment names the function and the function sees (and checks the signature
  // of) the rest; a --url is a function's own trigger, so the whole path is the function's.
  let base: string;
  let signedPath: string;
  if (values.url) {
    base = values.url;
    signedPath = path;
  } else {
    const [, fn = '', ...rest] = path.split('/');
    if (!fn) {
      console.error('call: the path starts with the function, e.g. /release/targets/api-prod');
      return 2;
    }
    base = `${process.env.FC_DEVOPS_URL ?? localRuntimeUrl()}/${fn}`;
    signedPath = `/${rest.join('/')}`;
  }
  const key = operatorKey(values);
  if (typeof key === 'string') {
    console.error(key);
    return 2;
  }
  return signedCall(
    base,
    {
      method,
      path: signedPath,
      query,
      ...(body !== undefined ? { rawBody: body } : {}),
      ...(values['idempotency-key'] ? { headers: { 'idempotency-key': values['idempotency-key'] } } : {}),
    },
    key,
  );
}
