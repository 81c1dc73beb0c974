import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { until } from '../helpers.ts';

const S_YAML = `edition: 3.0.0
name: watch-test
resources:
  hello:
    component: fc3
    props: { region: cn-hangzhou, functionName: hello, runtime: nodejs20, handler: index.handler, code: ./dist/hello, timeout: 5 }
`;

describe('local runtime lifecycle', () => {
  it('rebuilds on a source change and runs the new code on the next invocation', async () => {
    const root = mkdtempSync(join(tmpdir(), 'watch-'));
    mkdirSync(join(root, 'functions', 'hello'), { recursive: true });
    const write = (version: string) =>
      writeFileSync(
        join(root, 'functions', 'hello', 'index.ts'),
        `export const handler = async () => ({ version: '${version}' });\n`,
      );
    write('v1');
    writeFileSync(join(root, 's.yaml'), S_YAML);
    const runtime = await LocalRuntime.start({
      template: join(root, 's.yaml'),
      port: 0,
      stateDir: join(root, '.fc-devops'),
      watch: true,
      print: () => {},
    });
    const invoke = async () => {
      const r = await fetch(`${runtime.url}/2023-03-30/functions/hello/invocations`, {
        method: 'POST',
        body: '{}',
      });
      return ((await r.json()) as { version: string }).version;
    };
    try {
      expect(await invoke()).toBe('v1');
      write('v2');
      expect(await until(async () => ((await invoke()) === 'v2' ? 'v2' : undefined), 20_000)).toBe('v2');
    } finally {
      await runtime.stop(1000);
    }
  });

  it('lets an invocation in flight finish when it stops', async () => {
    const runtime = await LocalRuntime.start({
      template: resolve(import.meta.dirname, '../fixtures/app/s.yaml'),
      port: 0,
      stateDir: mkdtempSync(join(tmpdir(), 'drain-')),
      print: () => {},
    });
    const inFlight = fetch(`${runtime.url}/2023-03-30/functions/slow/invocations`, {
      method: 'POST',
      body: '{"ms":600}',
    });
    await until(() => runtime.inFlight > 0 || undefined);
    const stopping = Date.now();
    await runtime.stop(20_000);
    // It waited for the invocation, not for the whole grace period.
    expect(Date.now() - stopping).toBeLessThan(20_000);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ slept: 600 });
  });
});
