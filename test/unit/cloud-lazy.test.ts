import { describe, expect, it } from 'vitest';
import { AckAdapter } from '../../shared/cloud/adapters/ack.ts';
import { DirectMailAdapter } from '../../shared/cloud/adapters/directmail.ts';
import { EcsAdapter } from '../../shared/cloud/adapters/ecs.ts';
import { EssAdapter } from '../../shared/cloud/adapters/ess.ts';
import { RdsAdapter } from '../../shared/cloud/adapters/rds.ts';
import { lazyAdapter } from '../../shared/cloud/cloud.ts';
import { OssClient } from '../../shared/cloud/oss.ts';
import { InvariantError } from '../../shared/runtime/errors.ts';

describe('cloud adapters loaded on their first call', () => {
  // A sync method behind lazyAdapter would hand its caller a promise where it expects a value.
  it.each([AckAdapter, DirectMailAdapter, EcsAdapter, EssAdapter, RdsAdapter, OssClient])(
    '%o has only async methods',
    (adapter) => {
      const proto = adapter.prototype as unknown as Record<string, unknown>;
      const members = Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor');
      expect(members.length).toBeGreaterThan(0);
      for (const name of members) {
        const d = Object.getOwnPropertyDescriptor(proto, name)!;
        expect({ name, kind: d.get ? 'getter' : (d.value as object).constructor.name }).toEqual({
          name,
          kind: 'AsyncFunction',
        });
      }
    },
  );

  class Counter {
    calls: number[] = [];
    constructor(readonly base: number) {}
    async add(n: number) {
      this.calls.push(n);
      return this.base + n;
    }
    async fail() {
      throw new Error('upstream said no');
    }
  }

  it('loads once, on the first call, even when calls overlap; `this` is the adapter', async () => {
    let loads = 0;
    const counter = new Counter(10);
    const adapter = lazyAdapter('test', async () => {
      loads++;
      return counter;
    });
    const add = adapter.add;
    expect(loads).toBe(0);
    expect(await Promise.all([adapter.add(1), add(2), adapter.add(3)])).toEqual([11, 12, 13]);
    expect(loads).toBe(1);
    expect(counter.calls).toEqual([1, 2, 3]);
    expect(adapter.add).toBe(add);
  });

  it('passes the adapter’s errors through, and names a method it does not have', async () => {
    const adapter = lazyAdapter('test', async () => new Counter(0));
    await expect(adapter.fail()).rejects.toThrow('upstream said no');
    const missing = (adapter as unknown as { nope: () => Promise<unknown> }).nope();
    await expect(missing).rejects.toBeInstanceOf(InvariantError);
    await expect(missing).rejects.toThrow('the test adapter has no method nope');
  });

  it('is not a thenable, so awaiting it gives it back without loading it', async () => {
    let loads = 0;
    const adapter = lazyAdapter('test', async () => {
      loads++;
      return new Counter(0);
    });
    expect(await adapter).toBe(adapter);
    expect(loads).toBe(0);
  });

  it('a failed load fails each call with the load’s error', async () => {
    const adapter = lazyAdapter<Counter>('test', async () => {
      throw new Error('chunk missing');
    });
    await expect(adapter.add(1)).rejects.toThrow('chunk missing');
  });
});
