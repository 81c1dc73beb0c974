import { createHash } from 'node:crypto';

/** Hex SHA-256 of bytes or a UTF-8 string: content hashes, token digests, keys that must fit a limit. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
