import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requiredEnv } from '../../local/deploy/check.ts';
import { LAYERS } from '../../local/deploy/layers.ts';
import { loadProject } from '../../local/runtime/s-yaml.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const INFRA = join(ROOT, 'infra');
const tf = (file: string) => readFileSync(join(INFRA, file), 'utf8');
const hasTerraform = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
const names = loadProject(join(ROOT, 's.yaml'), {}).functions.map((f) => f.name);

describe('infra/ (Terraform, alicloud provider)', () => {
  it.skipIf(!hasTerraform)('is formatted as terraform fmt writes it (terraform on PATH)', () => {
    const r = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', INFRA], { encoding: 'utf8' });
    expect({ status: r.status, diff: r.stdout }).toEqual({ status: 0, diff: '' });
  });
  if (!hasTerraform) console.warn('terraform is not on PATH: the terraform fmt check of infra/ is skipped');

  it('makes one role per function of s.yaml, named as s.yaml names it, with the generated policy', () => {
    const declared = /variable "functions" \{[\s\S]*?default\s*=\s*(\[[^\]]*\])/.exec(
      tf('variables.tf'),
    )![1]!;
    expect((JSON.parse(declared) as string[]).sort()).toEqual([...names].sort());
    expect(tf('variables.tf')).toMatch(/variable "prefix" \{[\s\S]*?default\s*=\s*"fc-devops"/);
    expect(tf('roles.tf')).toMatch(/role_name\s+=\s+"\$\{var\.prefix\}-\$\{each\.key\}"/);
    expect(tf('roles.tf')).toMatch(
      /assume_role_policy_document\s+=\s+local\.trusted_by\["fc\.aliyuncs\.com"\]/,
    );
    expect(tf('roles.tf')).toContain('file("${path.module}/policies/${each.key}.json")');
    const policies = readdirSync(join(INFRA, 'policies')).map((f) => f.replace(/\.json$/, ''));
    expect(policies.sort()).toEqual([...names].sort());
    const sYaml = readFileSync(join(ROOT, 's.yaml'), 'utf8');
    for (const fn of names) expect(sYaml).toContain(`role: acs:ram::\${vars.accountId}:role/fc-devops-${fn}`);
  });

  it('writes every FC_DEVOPS_ variable s.yaml reads into deploy_env', () => {
    const outputs = tf('outputs.tf');
    const produced = new Set(
      [...outputs.matchAll(/^\s*(FC_DEVOPS_[A-Z_]+|DATABASE_URL)\s*=/gm)].map((m) => m[1]!),
    );
    expect(outputs).toContain('"FC_DEVOPS_LAYER_${upper(replace(name, "-", "_"))}"');
    for (const layer of Object.keys(LAYERS))
      produced.add(`FC_DEVOPS_LAYER_${layer.toUpperCase().replace(/-/g, '_')}`);
    const read = [
      ...readFileSync(join(ROOT, 's.yaml'), 'utf8').matchAll(/\$\{env\(\s*'((?:FC_DEVOPS_)[A-Z_]+)'/g),
    ].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((name) => !produced.has(name))).toEqual([]);
    expect(requiredEnv(readFileSync(join(ROOT, 's.yaml'), 'utf8'))).toContain('DATABASE_URL');
    expect(produced.has('DATABASE_URL')).toBe(true);
  });

  it('grants the functions what FC does on their behalf: logs and dead letters, nothing wider', () => {
    const roles = tf('roles.tf');
    expect(roles).toContain('Action   = ["log:PostLogStoreLogs"]');
    expect(roles).toContain('Action   = ["mns:SendMessage"]');
    expect(roles).not.toMatch(/Action\s*=\s*"\*"|Resource\s*=\s*\["\*"\]/);
  });
});
