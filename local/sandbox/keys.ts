import type { FcCredentials } from '../../shared/runtime/context.ts';

/**
 * The access key the sandbox accepts and the local runtime hands its functions (as FC hands them the
 * role's STS keys). Meaningless anywhere else.
 */
export const SANDBOX_CREDENTIALS: FcCredentials = {
  accessKeyId: 'LTAI5tSandboxLocalKey01',
  accessKeySecret: 'sandbox-local-access-key-secret',
  securityToken: '',
};

export const SANDBOX_KEYS = { [SANDBOX_CREDENTIALS.accessKeyId]: SANDBOX_CREDENTIALS.accessKeySecret };
