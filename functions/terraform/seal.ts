import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('FCDPLAN1');

/**
 * Plan files hold the configuration, the prior state and the backend settings (a connection
 * string, in one case seen): they are kept only sealed with AES-256-GCM under the configured
 * `planKey`, bound to their workspace, so a file cannot be read, altered, or swapped for another
 * workspace's without the open failing.
 */
export function seal(plain: Buffer, secret: string, workspace: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(secret), iv);
  cipher.setAAD(Buffer.from(workspace));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
}

/** Open a sealed plan file; throws when the key, the workspace or a single byte is wrong. */
export function open(sealed: Buffer, secret: string, workspace: string): Buffer {
  if (!sealed.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a sealed plan file');
  const iv = sealed.subarray(MAGIC.length, MAGIC.length + 12);
  const tag = sealed.subarray(MAGIC.length + 12, MAGIC.length + 28);
  const decipher = createDecipheriv('aes-256-gcm', key(secret), iv);
  decipher.setAAD(Buffer.from(workspace));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(MAGIC.length + 28)), decipher.final()]);
}

const key = (secret: string) => createHash('sha256').update(`fc-devops plan key\n${secret}`).digest();
