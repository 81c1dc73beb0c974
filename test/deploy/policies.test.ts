import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePolicies, generatePolicies } from '../../local/deploy/policies.ts';
import { actionsOf, type PolicyDocument, policyFor, RAM_ACTIONS } from '../../local/deploy/ram.ts';
import { analyse, apisByFunction, type Reach } from '../../local/deploy/reach.ts';
import { loadProject } from '../../local/runtime/s-yaml.ts';
import { loadConfig, parseConfig } from '../../shared/config/load.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const config = loadConfig(join(ROOT, 'fc-devops.example.yaml'));
const names = loadProject(join(ROOT, 's.yaml'), {}).functions.map((f) => f.name);
const committed = (fn: string) =>
  JSON.parse(readFileSync(join(ROOT, 'infra/policies', `${fn}.json`), 'utf8')) as PolicyDocument;

let reach: Reach;
let apis: Record<string, string[]>;
beforeAll(async () => {
  reach = await analyse(ROOT);
  apis = apisByFunction(reach);
});

describe('least-privilege RAM policies, derived from the code', () => {
  it('each committed policy allows exactly the actions its function can call, in both directions', () => {
    expect(names.length).toBe(10);
    for (const fn of names) {
      const reachable = [
        ...new Set((apis[fn] ?? []).map((api) => RAM_ACTIONS[api]?.action ?? `unmapped ${api}`)),
      ];
      expect({ fn, actions: actionsOf(committed(fn)) }).toEqual({ fn, actions: reachable.sort() });
    }
  });

  it('the committed files are what `fc-devops policies` writes for the example configuration', async () => {
    const { policies } = await generatePolicies(ROOT, config, names);
    expect(comparePolicies(join(ROOT, 'infra/policies'), policies)).toEqual([]);
  });

  it('knows a RAM action for every API a client method calls, and lists none that no method calls', () => {
    const called = new Set(
      Object.values(reach.methods).flatMap((m) => m.apis.map((api) => `${m.product}:${api}`)),
    );
    expect([...called].filter((api) => !RAM_ACTIONS[api])).toEqual([]);
    expect(Object.keys(RAM_ACTIONS).filter((api) => !called.has(api))).toEqual([]);
  });

  it('reads what each function reaches from its own bundle', () => {
    expect(apis['git-webhook']).toEqual(['fc:InvokeFunction']);
    expect(apis.notify).toEqual(['dm:SingleSendMail', 'fc:InvokeFunction']);
    expect(apis.terraform).toEqual(['fc:InvokeFunction', 'oss:GetObject', 'oss:HeadObject']);
    // putFile's multipart upload falls back to put for small files: an edge inside the OSS client.
    expect(reach.methods['OssClient.putFile']!.calls).toContain('OssClient.put');
    expect(apis['image-build']).toContain('oss:PutObject');
    expect(apis['image-prune']).toEqual(expect.arrayContaining(['ecs:DeleteImage', 'ecs:DeleteSnapshot']));
    expect(apis['image-prune']!.some((a) => a.startsWith('rds:'))).toBe(false);
    expect(apis.release).toContain('cs:DescribeClusterUserKubeconfig');
    expect(apis.scale).toEqual(
      expect.arrayContaining(['ess:ModifyScalingGroup', 'cs:ModifyClusterNodePool']),
    );
    expect(apis.monitor).toEqual(['fc:InvokeFunction']);
  });

  it('scopes actions to the resources the configuration names', () => {
    const rotate = committed('backup-rotate');
    const create = rotate.Statement.find((s) => s.Action.includes('rds:CreateBackup'))!;
    expect(create.Resource).toEqual(['acs:rds:cn-hangzhou:1234567890123456:dbinstance/rm-bp1sandbox0001']);
    // The drill's clone is created by the drill: its id cannot be named in advance. The example's
    // policy also drills in its second region, where the restored instance is made.
    const drop = rotate.Statement.find((s) => s.Action.includes('rds:DeleteDBInstance'))!;
    expect(drop.Resource).toEqual([
      'acs:rds:cn-hangzhou:1234567890123456:dbinstance/*',
      'acs:rds:cn-shanghai:1234567890123456:dbinstance/*',
    ]);
    expect(drop.Action).toContain('rds:CreateDdrInstance');
    const scale = committed('scale').Statement.find((s) => s.Action.includes('ess:ModifyScalingGroup'))!;
    expect(scale.Resource).toEqual(['acs:ess:cn-hangzhou:1234567890123456:scalinggroup/asg-bp1sandbox0001']);
    const bundles = committed('terraform').Statement.find((s) => s.Action.includes('oss:GetObject'))!;
    expect(bundles.Resource).toEqual(['acs:oss:*:1234567890123456:fc-devops-artifacts/*']);
  });

  it('widens to the product wildcard when a policy picks instances by tag', () => {
    const tagged = parseConfig(
      `region: cn-shanghai\naccountId: "42424242"\nbackups:\n  policies:\n    p: { tags: { team: db }, schedule: "@every 1h" }\n`,
      'tagged.yaml',
    );
    const { policy, unknown } = policyFor(['rds:CreateBackup', 'rds:NoSuchApi'], tagged, ['notify']);
    expect(unknown).toEqual(['rds:NoSuchApi']);
    expect(policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['rds:CreateBackup'],
        Resource: ['acs:rds:cn-shanghai:42424242:dbinstance/*'],
      },
    ]);
  });
});

describe('a new call in a function changes what it reaches', () => {
  let copy: string;
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('monitor reaches rds:DeleteDBInstance once one of its files calls it', async () => {
    copy = mkdtempSync(join(tmpdir(), 'fcd-reach-'));
    for (const dir of ['functions', 'shared', 'local'])
      cpSync(join(ROOT, dir), join(copy, dir), { recursive: true });
    cpSync(join(ROOT, 'tsconfig.json'), join(copy, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const file = join(copy, 'functions/monitor/actions.ts');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}\nexport const dropIt = (c: import('../../shared/cloud/cloud.ts').Cloud) => c.rds.deleteInstance('x');\n`,
    );
    const changed = apisByFunction(await analyse(copy));
    expect(changed.monitor).toEqual(['fc:InvokeFunction', 'rds:DeleteDBInstance']);
    expect(changed.notify).toEqual(apis.notify);
  });
});
