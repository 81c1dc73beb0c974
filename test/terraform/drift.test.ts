import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedPaths, decideDrift, driftLines, type PlanJson } from '../../functions/terraform/drift.ts';

const plan = (name: string): PlanJson =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/terraform/drift', `${name}.json`), 'utf8'));
const pair = (name: string) => decideDrift(plan(`${name}.refresh`), plan(`${name}.normal`));

describe('drift, decided from the plans’ JSON', () => {
  it('reports what changed outside Terraform and what a plan would do about it, attribute names only', () => {
    const report = pair('alicloud-loadtest');
    expect(report).toEqual({
      drifted: [
        {
          address: 'alicloud_db_instance.pg',
          action: 'update',
          attributes: ['instance_storage', 'security_ips[0]'],
        },
        { address: 'alicloud_security_group_rule.amqp', action: 'delete', attributes: [] },
      ],
      pending: [
        {
          address: 'alicloud_db_instance.pg',
          action: 'update',
          attributes: ['instance_storage', 'security_ips[0]'],
        },
        { address: 'alicloud_security_group_rule.amqp', action: 'create', attributes: [] },
      ],
      outputs: [],
      drift: true,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(driftLines(report)).toEqual([
      'changed outside Terraform: alicloud_db_instance.pg (update: instance_storage, security_ips[0]); alicloud_security_group_rule.amqp (delete)',
      'a plan would change: alicloud_db_instance.pg (update: instance_storage, security_ips[0]); alicloud_security_group_rule.amqp (create)',
    ]);
    // Values (a whitelist, a connection string) never reach the report.
    expect(JSON.stringify(report)).not.toContain('0.0.0.0/0');
    expect(JSON.stringify(report)).not.toContain('aliyuncs.com');
  });

  it('does not call output-only changes drift, and says so', () => {
    for (const name of ['alicloud-outputs-only', 'builtin-outputs-only']) {
      const report = pair(name);
      expect(report.drift).toBe(false);
      expect(report.fingerprint).toBeNull();
      expect(report.drifted).toEqual([]);
      expect(report.pending).toEqual([]);
    }
    expect(driftLines(pair('alicloud-outputs-only'))).toEqual([
      'only outputs would change (amqp_endpoint): that is not drift',
    ]);
    expect(pair('builtin-outputs-only').outputs).toEqual(['label']);
  });

  it('finds a state that no longer matches the configuration in the normal plan, where the refresh-only plan shows outputs only (real terraform 1.11)', () => {
    const refreshOnly = plan('builtin-state-edited.refresh');
    // What -detailed-exitcode would call a change: no resource drift at all.
    expect(refreshOnly.resource_drift ?? []).toEqual([]);
    const report = pair('builtin-state-edited');
    expect(report).toMatchObject({
      drifted: [],
      pending: [
        { address: 'terraform_data.cluster', action: 'update', attributes: ['input.storage', 'output'] },
      ],
      outputs: ['cluster'],
      drift: true,
    });
    expect(driftLines(report)).toEqual([
      'a plan would change: terraform_data.cluster (update: input.storage, output)',
      'outputs that change too: cluster',
    ]);
  });

  it('gives the same drift the same fingerprint, and another drift another', () => {
    const a = pair('alicloud-loadtest');
    expect(pair('alicloud-loadtest').fingerprint).toBe(a.fingerprint);
    expect(pair('builtin-state-edited').fingerprint).not.toBe(a.fingerprint);
    // Order does not matter.
    const refresh = plan('alicloud-loadtest.refresh');
    refresh.resource_drift!.reverse();
    expect(decideDrift(refresh, plan('alicloud-loadtest.normal')).fingerprint).toBe(a.fingerprint);
  });

  it('lists the attribute paths that differ, and those known only after apply', () => {
    expect(changedPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } }, {})).toEqual(['b.c[1]']);
    expect(changedPaths({ a: [1] }, { a: [1, 2] }, {})).toEqual(['a']);
    expect(changedPaths({ id: 'x', out: 1 }, { id: 'x' }, { out: true })).toEqual(['out']);
    expect(changedPaths({ t: { k: 'v' } }, { t: {} }, {})).toEqual(['t.k']);
    expect(changedPaths(1, 1, undefined)).toEqual([]);
  });
});
