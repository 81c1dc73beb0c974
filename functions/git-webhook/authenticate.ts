import type { Config } from '../../shared/config/schema/index.ts';
import { resolveSecret } from '../../shared/config/secret-ref.ts';
import type { GitPush } from '../../shared/events/git/push.ts';
import { verifyWith } from '../../shared/events/git/verify.ts';
import { sameRepository } from '../../shared/images/match.ts';

/**
 * The secrets a delivery may be signed with: those of the pipelines and workspaces for its
 * repository, or, for a repository none names (or a ping), every configured webhook secret.
 */
export function candidateSecrets(config: Config, push: GitPush | undefined, env = process.env): string[] {
  const repositories = [
    ...Object.values(config.images.pipelines).map((p) => p.repository),
    ...Object.values(config.terraform.workspaces).flatMap((w) => (w.repository ? [w.repository] : [])),
  ];
  const mine = push ? repositories.filter((r) => sameRepository(push, r.url)) : [];
  const refs = (mine.length > 0 ? mine : repositories).map((r) => r.webhookSecret);
  const secrets = refs.map((r) => (r ? resolveSecret(r, env) : undefined)).filter((s): s is string => !!s);
  return [...new Set(secrets)];
}

/** Whether any candidate secret authenticates the request; the reason of the last refusal if none. */
export function authenticate(
  host: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
  secrets: string[],
  now: Date,
): { ok: true } | { ok: false; reason: string } {
  if (secrets.length === 0)
    return { ok: false, reason: 'no webhook secret is configured for this repository' };
  let reason = 'not authenticated';
  for (const secret of secrets) {
    const v = verifyWith(host, headers, body, secret, now);
    if (v.ok) return v;
    reason = v.reason;
  }
  return { ok: false, reason };
}
