import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAS_TERRAFORM, sayIfSkipped } from './harness.ts';

sayIfSkipped('example workspace checks');

const EXAMPLES = resolve(import.meta.dirname, '../../examples/terraform');
const tf = (dir: string, args: string[]) =>
  spawnSync('terraform', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, TF_IN_AUTOMATION: '1' },
  });

describe.skipIf(!HAS_TERRAFORM)('the example load-test environment', () => {
  it('is formatted as terraform fmt writes it, locally and on Alibaba Cloud', () => {
    for (const dir of ['loadtest', 'loadtest-alicloud']) {
      const r = tf(join(EXAMPLES, dir), ['fmt', '-check', '-diff']);
      expect(r.status, `${dir}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('validates offline: the local variant needs no provider', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'example-')), 'loadtest');
    cpSync(join(EXAMPLES, 'loadtest'), dir, { recursive: true });
    expect(tf(dir, ['init', '-backend=false', '-input=false']).status).toBe(0);
    const validated = tf(dir, ['validate', '-json']);
    expect(JSON.parse(validated.stdout)).toMatchObject({ valid: true, error_count: 0 });
  });
});
