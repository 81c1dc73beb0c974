import { signRequest } from '../../shared/auth/signing.ts';
import { localRuntimeUrl } from './local-urls.ts';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path below the function's HTTP trigger (what the function sees, and what is signed). */
  path: string;
  body?: Record<string, unknown>;
  /** Query parameters (signed with the request). */
  query?: Record<string, string>;
  /** The body as given (`fc-devops call --data`), instead of `body` as JSON. */
  rawBody?: string;
  /** More headers (an Idempotency-Key); not signed, as the scheme signs none but its own. */
  headers?: Record<string, string>;
}

/**
 * Send one signed request to an operator endpoint (FCD-HMAC-SHA256, see shared/auth/signing.ts) and
 * print the answer; exit status 0 for a 2xx, else 1.
 */
export async function signedCall(
  base: string,
  route: Route,
  key: { id: string; secret: string },
): Promise<number> {
  const body = route.rawBody ?? (route.body === undefined ? '' : JSON.stringify(route.body));
  const headers = signRequest({
    method: route.method,
    path: route.path,
    query: route.query ?? {},
    body,
    keyId: key.id,
    secret: key.secret,
  });
  const search = new URLSearchParams(route.query ?? {}).toString();
  const response = await fetch(`${base.replace(/\/+$/, '')}${route.path}${search ? `?${search}` : ''}`, {
    method: route.method,
    headers: { ...route.headers, ...headers, 'content-type': 'application/json' },
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  return response.ok ? 0 : 1;
}

/** The operator key from --key / $FC_DEVOPS_KEY_ID and the secret in $<secret-env>, or a usage error. */
export function operatorKey(values: {
  key?: string | undefined;
  'secret-env': string;
}): { id: string; secret: string } | string {
  const secret = process.env[values['secret-env']];
  if (!values.key || !secret)
    return `set --key (or FC_DEVOPS_KEY_ID) and the secret in $${values['secret-env']}`;
  return { id: values.key, secret };
}

/**
 * The options every operator command takes: where the function is (`$<urlEnv>`, else the function of
 * the local runtime at $FC_DEVOPS_URL or the one `fc-devops dev` runs), which key signs, and where its secret is.
 */
export function operatorOptions(urlEnv: string, fn: string) {
  return {
    url: {
      type: 'string',
      default: process.env[urlEnv] ?? `${process.env.FC_DEVOPS_URL ?? localRuntimeUrl()}/${fn}`,
    },
    key: { type: 'string', default: process.env.FC_DEVOPS_KEY_ID },
    'secret-env': { type: 'string', default: 'FC_DEVOPS_KEY_SECRET' },
  } as const;
}

/**
 * Run one of a command group's routes: an unknown command or a route that is a usage message
 * (what is missing) exits 2 saying so; otherwise the signed call's status.
 */
export async function callRoute(
  group: string,
  command: string,
  routes: Record<string, Route | string>,
  usage: string,
  values: { url: string; key?: string | undefined; 'secret-env': string },
): Promise<number> {
  if (!Object.hasOwn(routes, command)) {
    console.error(`unknown ${group} command "${command}"\n${usage}`);
    return 2;
  }
  const route = routes[command]!;
  if (typeof route === 'string') {
    console.error(route);
    return 2;
  }
  const key = operatorKey(values);
  if (typeof key === 'string') {
    console.error(key);
    return 2;
  }
  return signedCall(values.url, route, key);
}
