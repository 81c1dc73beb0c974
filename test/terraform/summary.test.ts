import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type PlanSummary, summarizePlan, summaryLines } from '../../functions/terraform/summary.ts';

const plan = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/terraform', `${name}.json`), 'utf8'));
const none = { total: 0, first: [] };

describe('plan summaries from show -json', () => {
  it('recorded: four creates and an output from an empty state', () => {
    expect(summarizePlan(plan('terraform-data-create'))).toEqual({
      changes: { add: 4, change: 0, destroy: 0, replace: 0, import: 0, forget: 0 },
      destructive: false,
      noChanges: false,
      resources: {
        create: {
          total: 4,
          first: [
            'terraform_data.cbd',
            'terraform_data.cluster',
            'terraform_data.gone',
            'terraform_data.replaced',
          ],
        },
        update: none,
        delete: none,
        replace: none,
        import: none,
        forget: none,
      },
      outputs: { add: ['cluster'], change: [], remove: [] },
      drift: { count: 0, update: none, delete: none },
      terraformVersion: '1.11.4',
    } satisfies PlanSummary);
  });

  it('recorded: an update, replaces in both orders, a forget and output changes', () => {
    const s = summarizePlan(plan('terraform-data-change'));
    expect(s.changes).toEqual({ add: 0, change: 1, destroy: 0, replace: 2, import: 0, forget: 1 });
    expect(s.destructive).toBe(true);
    expect(s.resources.replace.first).toEqual(['terraform_data.cbd', 'terraform_data.replaced']);
    expect(s.resources.forget.first).toEqual(['terraform_data.gone']);
    expect(s.outputs).toEqual({ add: ['extra'], change: ['cluster'], remove: [] });
    expect(summaryLines(s)).toEqual([
      'DESTRUCTIVE: 0 to destroy, 2 to replace',
      '0 to add, 1 to change, 2 to replace, 0 to destroy, 1 to forget',
      'replace: terraform_data.cbd, terraform_data.replaced',
      'update: terraform_data.cluster',
      'forget: terraform_data.gone',
      'outputs: +extra, ~cluster',
    ]);
  });

  it('recorded: a destroy plan is destructive, and a plan with nothing to do says so', () => {
    const destroy = summarizePlan(plan('terraform-data-destroy'));
    expect(destroy.changes).toMatchObject({ destroy: 4, add: 0 });
    expect(destroy.outputs.remove.sort()).toEqual(['cluster', 'extra']);
    expect(destroy.destructive).toBe(true);
    const nothing = summarizePlan(plan('terraform-data-nochange'));
    expect(nothing.noChanges).toBe(true);
    expect(summaryLines(nothing)).toEqual(['No changes.']);
  });

  it('alicloud (reconstructed): creates, an update, replaces, a delete in a module, drift kept apart', () => {
    expect(summarizePlan(plan('alicloud-network-change'))).toEqual({
      changes: { add: 3, change: 1, destroy: 1, replace: 2, import: 0, forget: 0 },
      destructive: true,
      noChanges: false,
      resources: {
        create: {
          total: 3,
          first: ['alicloud_vpc.main', 'alicloud_vswitch.app["a"]', 'alicloud_vswitch.app["b"]'],
        },
        update: { total: 1, first: ['alicloud_security_group.web'] },
        delete: { total: 1, first: ['module.db.alicloud_db_instance.legacy'] },
        replace: { total: 2, first: ['alicloud_instance.web[0]', 'alicloud_instance.web[1]'] },
        import: none,
        forget: none,
      },
      outputs: { add: ['vpc_id'], change: ['instance_ips'], remove: ['legacy_db'] },
      drift: {
        count: 2,
        update: { total: 1, first: ['alicloud_security_group.web'] },
        delete: { total: 1, first: ['alicloud_eip_address.stale'] },
      },
      terraformVersion: '1.11.4',
    } satisfies PlanSummary);
    expect(summaryLines(summarizePlan(plan('alicloud-network-change')))).toEqual([
      'DESTRUCTIVE: 1 to destroy, 2 to replace',
      '3 to add, 1 to change, 2 to replace, 1 to destroy',
      'destroy: module.db.alicloud_db_instance.legacy',
      'replace: alicloud_instance.web[0], alicloud_instance.web[1]',
      'create: alicloud_vpc.main, alicloud_vswitch.app["a"], alicloud_vswitch.app["b"]',
      'update: alicloud_security_group.web',
      'outputs: +vpc_id, ~instance_ips, -legacy_db',
      'drift outside Terraform: 2 object(s)',
      '  changed outside: alicloud_security_group.web',
      '  deleted outside: alicloud_eip_address.stale',
    ]);
  });

  it('alicloud (reconstructed): imports are counted as imports, not as updates', () => {
    const s = summarizePlan(plan('alicloud-import'));
    expect(s.changes).toEqual({ add: 0, change: 0, destroy: 0, replace: 0, import: 2, forget: 0 });
    expect(s.resources.import.first).toEqual(['alicloud_oss_bucket.logs', 'alicloud_ram_role.ops']);
    expect(s.destructive).toBe(false);
  });

  it('keeps a huge plan to a few addresses per action and under the chat limit', () => {
    const huge = {
      resource_changes: Array.from({ length: 10_000 }, (_, i) => ({
        address: `alicloud_instance.fleet[${i}]`,
        change: { actions: i % 2 ? ['create'] : ['delete', 'create'] },
      })),
    };
    const s = summarizePlan(huge);
    expect(s.changes).toMatchObject({ add: 5000, replace: 5000 });
    expect(s.resources.create.first).toHaveLength(10);
    const lines = summaryLines(s);
    expect(lines.join('\n').length).toBeLessThanOrEqual(1500);
    // As many addresses as fit a line, and how many more there are.
    const create = lines.find((l) => l.startsWith('create: '))!;
    expect(create).toMatch(
      /^create: alicloud_instance\.fleet\[1\], alicloud_instance\.fleet\[3\], .* \(and \d+ more\)$/,
    );
    const shown = create.split(', ').length;
    expect(create).toContain(`(and ${5000 - shown} more)`);
    expect(create.length).toBeLessThanOrEqual(300);
  });

  it('reads missing or odd parts as empty instead of failing', () => {
    expect(summarizePlan({}).noChanges).toBe(true);
    expect(summarizePlan(null).changes.add).toBe(0);
    expect(summarizePlan({ resource_changes: [{ change: { actions: 'create' } }, {}] }).noChanges).toBe(true);
  });
});
