import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fc3CloudProps } from '../../local/deploy/fc3-props.ts';
import { bundleInputs } from '../../local/deploy/reach.ts';
import { loadProject } from '../../local/runtime/s-yaml.ts';
import { DEPLOY_ENV } from './deploy-env.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('s.yaml, wired for the cloud', () => {
  it('gives every function its role, VPC, logs and dead letter, valid for the fc3 component', () => {
    const { functions } = loadProject(join(ROOT, 's.yaml'), DEPLOY_ENV);
    expect(functions).toHaveLength(10);
    for (const fn of functions) {
      const parsed = fc3CloudProps.safeParse(fn.props);
      expect({ fn: fn.name, issues: parsed.error?.issues ?? [] }).toEqual({ fn: fn.name, issues: [] });
      const p = parsed.data!;
      expect(p.region).toBe('cn-shanghai');
      expect(p.role).toBe(`acs:ram::5555666677778888:role/fc-devops-${fn.name}`);
      expect(p.vpcConfig).toEqual({
        vpcId: 'vpc-uf6acme',
        vSwitchIds: ['vsw-uf6acme'],
        securityGroupId: 'sg-uf6acme',
      });
      expect(p.logConfig.project).toBe('acme-fc-devops-logs');
      expect(p.asyncInvokeConfig.destinationConfig.onFailure.destination).toBe(
        DEPLOY_ENV.FC_DEVOPS_DEAD_LETTER,
      );
      expect(fn.onFailure).toBe(DEPLOY_ENV.FC_DEVOPS_DEAD_LETTER);
    }
    const bundles = loadProject(join(ROOT, 's.yaml'), DEPLOY_ENV).functions.find(
      (f) => f.name === 'terraform',
    )!;
    const oss = bundles.props.triggers as { sourceArn?: string; invocationRole?: string }[];
    expect(oss.find((t) => t.sourceArn)).toMatchObject({
      sourceArn: 'acs:oss:cn-shanghai:5555666677778888:acme-fc-devops',
      invocationRole: 'acs:ram::5555666677778888:role/aliyunosseventnotificationrole',
    });
  });

  it('gives each function the layers of exactly the binaries its bundle runs', async () => {
    const inputs = await bundleInputs(ROOT);
    const needs = (fn: string) => {
      const files = inputs[fn] ?? [];
      const want: string[] = [];
      if (files.includes('shared/tools/git.ts')) want.push(DEPLOY_ENV.FC_DEVOPS_LAYER_GIT);
      if (files.includes('shared/tools/packer.ts')) want.push(DEPLOY_ENV.FC_DEVOPS_LAYER_PACKER);
      if (files.includes('shared/tools/terraform.ts')) want.push(DEPLOY_ENV.FC_DEVOPS_LAYER_TERRAFORM);
      if (files.includes('functions/backup-rotate/database-dump.ts'))
        want.push(DEPLOY_ENV.FC_DEVOPS_LAYER_PG_CLIENTS, DEPLOY_ENV.FC_DEVOPS_LAYER_MYSQL_CLIENTS);
      return want.sort();
    };
    for (const fn of loadProject(join(ROOT, 's.yaml'), DEPLOY_ENV).functions) {
      const layers = ((fn.props.layers as string[] | undefined) ?? []).slice().sort();
      expect({ fn: fn.name, layers }).toEqual({ fn: fn.name, layers: needs(fn.name) });
    }
    expect(needs('image-build')).toHaveLength(2);
  });

  it('still runs under npm start with none of it set, and says what is missing for the cloud', () => {
    const { functions } = loadProject(join(ROOT, 's.yaml'), {});
    const notify = functions.find((f) => f.name === 'notify')!;
    expect(notify.onFailure).toBe(
      'acs:mns:cn-hangzhou:1234567890123456:/queues/fc-devops-dead-letter/messages',
    );
    const parsed = fc3CloudProps.safeParse(notify.props);
    const messages = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toContain(
      'vpcConfig.vpcId: the VPC id (FC_DEVOPS_VPC_ID) is empty: set it (see infra/README.md)',
    );
    const build = functions.find((f) => f.name === 'image-build')!;
    expect(fc3CloudProps.safeParse(build.props).error!.issues.map((i) => i.path.join('.'))).toContain(
      'layers.0',
    );
  });
});
