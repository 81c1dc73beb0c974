import { describe, expect, it } from 'vitest';
import { judge } from '../../shared/store/idempotency-state.ts';

const now = new Date('2026-11-27T10:00:00Z');
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

describe('the idempotency state machine', () => {
  it.each([
    ['no record', undefined, 'claimable'],
    [
      'in progress, lease live',
      { status: 'in_progress', leaseExpiresAt: at(5), expiresAt: at(60) },
      'in_progress',
    ],
    [
      'in progress, lease ran out (crashed claimant)',
      { status: 'in_progress', leaseExpiresAt: at(0), expiresAt: at(60) },
      'claimable',
    ],
    ['completed', { status: 'completed', leaseExpiresAt: at(-5), expiresAt: at(60) }, 'duplicate'],
    [
      'completed but expired',
      { status: 'completed', leaseExpiresAt: at(-5), expiresAt: at(-1) },
      'claimable',
    ],
    ['failed', { status: 'failed', leaseExpiresAt: at(5), expiresAt: at(60) }, 'claimable'],
  ] as const)('%s: %s', (_, record, verdict) => {
    expect(judge(record, now)).toBe(verdict);
  });
});
