import type { FcContext, FcCredentials } from '../runtime/context.ts';
import { ConfigError } from '../runtime/errors.ts';

/** Called before every request, so rotated STS tokens are picked up without a restart. */
export type CredentialSource = () => Promise<FcCredentials>;

/**
 * Credentials from the FC `context` (the function role's STS triple, rotated by FC) or from the
 * `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `_SECURITY_TOKEN` variables, read afresh on each call.
 */
export function credentialsFrom(
  context?: Pick<FcContext, 'credentials'>,
  env: NodeJS.ProcessEnv = process.env,
): CredentialSource {
  return async () => {
    const c = context?.credentials;
    if (c?.accessKeyId && c.accessKeySecret) {
      return {
        accessKeyId: c.accessKeyId,
        accessKeySecret: c.accessKeySecret,
        ...(c.securityToken ? { securityToken: c.securityToken } : {}),
      };
    }
    const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    if (!id || !secret) {
      throw new ConfigError([
        {
          file: 'environment',
          message:
            'no Alibaba Cloud credentials: give the function a role, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
        },
      ]);
    }
    const token = env.ALIBABA_CLOUD_SECURITY_TOKEN;
    return { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) };
  };
}
