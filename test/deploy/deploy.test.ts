import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleSecrets, runCli } from '../helpers.ts';
import { DEPLOY_ENV } from './deploy-env.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every secret fc-devops.example.yaml references (s.yaml reads the same ones), set as a user would. */
const SECRETS = exampleSecrets();
// The example configuration's region and account, so the committed policies fit.
const ENV: Record<string, string> = {
  ...DEPLOY_ENV,
  ...SECRETS,
  FC_DEVOPS_REGION: 'cn-hangzhou',
  FC_DEVOPS_ACCOUNT_ID: '1234567890123456',
  FC_DEVOPS_BUCKET: 'fc-devops-artifacts',
  FC_DEVOPS_DEAD_LETTER: 'acs:mns:cn-hangzhou:1234567890123456:/queues/fc-devops-dead-letter/messages',
  DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

// Only what is given: no credentials or variables leak in from the machine running the tests.
const run = (args: string[], cwd: string, env: Record<string, string>) =>
  runCli(args, { cwd, env: { PATH: process.env.PATH!, HOME: join(cwd, 'home'), ...env } });

let project: string;
beforeAll(() => {
  // A user's checkout: the code, s.yaml, the generated policies, and their own fc-devops.yaml.
  project = mkdtempSync(join(tmpdir(), 'fcd-deploy-'));
  for (const dir of ['functions', 'shared', 'local', 'infra'])
    cpSync(join(ROOT, dir), join(project, dir), { recursive: true });
  for (const file of ['s.yaml', 'tsconfig.json', 'fc-devops.example.yaml'])
    cpSync(join(ROOT, file), join(project, file));
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  mkdirSync(join(project, 'home'));
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('npm run build and npm run deploy', () => {
  it('build without an fc-devops.yaml says the bundles carry no configuration', async () => {
    const r = await run(['build'], project, {});
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('built 10 function(s)');
    expect(r.stdout).toContain('no fc-devops.yaml here, so the bundles carry no configuration');
    expect(existsSync(join(project, 'dist/notify/fc-devops.json'))).toBe(false);
  });

  it('deploy without an fc-devops.yaml stops before building, and says what to do', async () => {
    const r = await run(['deploy', '--plan'], project, ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(project, 'fc-devops.yaml')}: not found.`);
    expect(r.stderr).toContain('copy fc-devops.example.yaml');
  });

  it('--plan prints what would be created or changed, calling nothing', async () => {
    cpSync(join(project, 'fc-devops.example.yaml'), join(project, 'fc-devops.yaml'));
    const r = await run(['deploy', '--plan'], project, ENV);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Without the functions' address the console deploys all the same, and the plan says what it lacks.
    const { FC_DEVOPS_FUNCTIONS_URL: _, ...withoutUrl } = ENV;
    const partial = await run(['deploy', '--plan'], project, withoutUrl);
    expect(partial.status).toBe(0);
    expect(partial.stderr).toContain('warning: FC_DEVOPS_FUNCTIONS_URL is not set: the console');
    expect(r.stdout).toContain('fc-devops deploy plan: 10 function(s) in cn-hangzhou');
    expect(r.stdout).toMatch(
      / {2}image-build +nodejs20, 2048 MB, 7200 s, 10240 MB disk, role acs:ram::1234567890123456:role\/fc-devops-image-build/,
    );
    expect(r.stdout).toContain(
      `layers ${DEPLOY_ENV.FC_DEVOPS_LAYER_GIT}, ${DEPLOY_ENV.FC_DEVOPS_LAYER_PACKER}`,
    );
    expect(r.stdout).toContain(
      'trigger oss bundles (acs:oss:cn-hangzhou:1234567890123456:fc-devops-artifacts',
    );
    expect(r.stdout).toContain('network: VPC vpc-uf6acme, vSwitches vsw-uf6acme, security group sg-uf6acme');
    expect(r.stdout).toContain('roles used (made by infra/, not by s deploy): 10');
  });

  it('stops on what would break in the cloud: a secret unset, another region, stale policies', async () => {
    const { TERRAFORM_PLAN_KEY: _, ...withoutKey } = ENV;
    const r = await run(['deploy', '--plan'], project, { ...withoutKey, FC_DEVOPS_REGION: 'cn-shanghai' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /fc-devops\.yaml:\d+:\d+ terraform\.planKey: environment variable TERRAFORM_PLAN_KEY is not set/,
    );
    expect(r.stderr).toContain('s.yaml: these environment variables are not set: TERRAFORM_PLAN_KEY');
    expect(r.stderr).toContain('region cn-hangzhou but');
    expect(r.stderr).toContain('deploys to cn-shanghai');

    // A scaling group the policies do not name yet.
    const yaml = readFileSync(join(project, 'fc-devops.yaml'), 'utf8');
    writeFileSync(
      join(project, 'fc-devops.yaml'),
      yaml.replace(
        'scalingGroupId: asg-bp1sandbox0001\n      min: 2',
        'scalingGroupId: asg-bp1other\n      min: 2',
      ),
    );
    try {
      const stale = await run(['deploy', '--plan'], project, ENV);
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain('infra/policies/scale.json: differs from the code');
      expect(stale.stderr).toContain('run fc-devops policies --config');
    } finally {
      writeFileSync(join(project, 'fc-devops.yaml'), yaml);
    }
  });

  it('warns when DATABASE_URL does not answer from here, and why that can be fine', async () => {
    const r = await run(['deploy', '--plan'], project, {
      ...ENV,
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      "warning: DATABASE_URL: 127.0.0.1:1 does not answer from this machine. An RDS instance in the functions' VPC",
    );
    expect(r.stderr).not.toContain('u:p');
  });

  it('deploy builds with the configuration, then says why Serverless Devs cannot deploy from here', async () => {
    const noCredentials = await run(['deploy'], project, ENV);
    expect(noCredentials.status).toBe(1);
    expect(noCredentials.stderr).toContain('s deploy needs credentials');

    writeFileSync(
      join(project, 'deploy.env'),
      'ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIexample\nALIBABA_CLOUD_ACCESS_KEY_SECRET=example\n',
    );
    const r = await run(['deploy'], project, ENV);
    expect(r.stdout).toContain('read 2 variable(s) from deploy.env');
    expect(r.stdout).toContain('built 10 function(s), each with fc-devops.yaml');
    // Checked and compiled: what the function reads at its cold start.
    const shipped = JSON.parse(readFileSync(join(project, 'dist/release/fc-devops.json'), 'utf8'));
    expect(shipped).toMatchObject({ format: 'fc-devops-config/1', source: join(project, 'fc-devops.yaml') });
    expect(shipped.config.releases.targets['web-k8s']).toMatchObject({
      kind: 'k8s-deployment',
      healthySeconds: 60,
    });
    // This machine has no route to the registry Serverless Devs fetches the fc3 component from.
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /s deploy could not reach \S+: Serverless Devs downloads its fc3 component from there/,
    );
    expect(r.stderr).toContain('Nothing was changed in the cloud.');
  });
});
