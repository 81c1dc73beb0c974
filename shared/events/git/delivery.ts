import { ParseError } from '../../runtime/errors.ts';
import { sha256Hex as sha256 } from '../../util/hash.ts';
import { isRecord } from '../../util/records.ts';
import { decodeJson } from '../parse.ts';
import { giteePush } from './gitee.ts';
import { githubPush } from './github.ts';
import { gitlabPush } from './gitlab.ts';
import type { GitHost, GitPush } from './push.ts';

/** GitHub caps deliveries at 25 MB; anything bigger is not a webhook. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/** One webhook request, recognised but not yet authenticated. */
export type Delivery =
  | { host: GitHost; event: string; id: string; kind: 'ping' }
  | { host: GitHost; event: string; id: string; kind: 'push'; push: GitPush | undefined };

/** A request fc-devops does not handle: unknown host or event (answered 400, naming it). */
export class UnsupportedDelivery extends Error {
  override name = 'UnsupportedDelivery';
}

/** Which host sent the request, by the headers each host always sets. */
export function hostOf(headers: Readonly<Record<string, string>>): GitHost {
  if (headers['x-github-event']) return 'github';
  if (headers['x-gitlab-event']) return 'gitlab';
  if (headers['x-gitee-event'] || headers['x-gitee-token']) return 'gitee';
  // Codeup documents `Codeup-Event`; whether it arrives with an X- prefix is unverified, so take both.
  if (headers['codeup-event'] || headers['x-codeup-event'] || headers['x-codeup-token']) return 'codeup';
  throw new UnsupportedDelivery(
    'unknown git host: expected one of the headers X-GitHub-Event, X-Gitlab-Event, X-Gitee-Event, Codeup-Event',
  );
}

/**
 * GitHub's default content type is `application/x-www-form-urlencoded`: the JSON arrives URL-encoded
 * in the form's `payload` field (the signature covers the form as sent, which is checked as is).
 */
function githubJson(headers: Readonly<Record<string, string>>, body: Buffer): unknown {
  if (!/^application\/x-www-form-urlencoded\b/i.test(headers['content-type'] ?? ''))
    return decodeJson(body, 'webhook body');
  const payload = new URLSearchParams(body.toString('utf8')).get('payload');
  if (payload === null)
    throw new ParseError('webhook body', [
      {
        path: ['body', 'payload'],
        message: 'a form-encoded GitHub delivery carries its JSON in payload; it is missing',
      },
    ]);
  return decodeJson(payload, 'webhook body');
}

/**
 * Recognise host, event and delivery id, and normalise a push. Hosts without a delivery id (Codeup,
 * Gitee) are identified by a hash of the body, which a redelivery repeats.
 */
export function readDelivery(headers: Readonly<Record<string, string>>, body: Buffer): Delivery {
  const host = hostOf(headers);
  const json = () => decodeJson(body, 'webhook body');
  switch (host) {
    case 'github': {
      const event = headers['x-github-event']!;
      const id = headers['x-github-delivery'] || sha256(body);
      if (event === 'ping') return { host, event, id, kind: 'ping' };
      if (event !== 'push')
        throw new UnsupportedDelivery(`unsupported GitHub event "${event}" (handled: push, ping)`);
      return { host, event, id, kind: 'push', push: githubPush(githubJson(headers, body)) };
    }
    case 'gitlab': {
      const event = headers['x-gitlab-event']!;
      const id = headers['idempotency-key'] || headers['x-gitlab-event-uuid'] || sha256(body);
      if (event !== 'Push Hook' && event !== 'Tag Push Hook')
        throw new UnsupportedDelivery(
          `unsupported GitLab event "${event}" (handled: Push Hook, Tag Push Hook)`,
        );
      return { host, event, id, kind: 'push', push: gitlabPush(json(), 'gitlab') };
    }
    case 'codeup': {
      const value = json();
      const kind = isRecord(value) ? value.object_kind : undefined;
      const event =
        headers['codeup-event'] ||
        headers['x-codeup-event'] ||
        (kind === 'push' ? 'Push Hook' : kind === 'tag_push' ? 'Tag Push Hook' : String(kind));
      if (event !== 'Push Hook' && event !== 'Tag Push Hook')
        throw new UnsupportedDelivery(
          `unsupported Codeup event "${event}" (handled: Push Hook, Tag Push Hook)`,
        );
      return { host, event, id: sha256(body), kind: 'push', push: gitlabPush(value, 'codeup') };
    }
    case 'gitee': {
      const value = json();
      const hook = isRecord(value) ? value.hook_name : undefined;
      const event =
        headers['x-gitee-event'] ||
        (hook === 'push_hooks' ? 'Push Hook' : hook === 'tag_push_hooks' ? 'Tag Push Hook' : String(hook));
      if (event !== 'Push Hook' && event !== 'Tag Push Hook')
        throw new UnsupportedDelivery(
          `unsupported Gitee event "${event}" (handled: Push Hook, Tag Push Hook)`,
        );
      return { host, event, id: sha256(body), kind: 'push', push: giteePush(value) };
    }
  }
}
