import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPlanFile, restoreWorkdir } from '../../functions/terraform/planfile.ts';
import { cliConfig, runTerraform, type UiMessage } from '../../shared/tools/terraform.ts';

const HAS_TERRAFORM = (() => {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!HAS_TERRAFORM) console.warn('terraform is not on PATH: the terraform runner tests are skipped');
const MIRROR = '/opt/tf-plugins';
const HAS_MIRROR = existsSync(join(MIRROR, 'registry.terraform.io/hashicorp/aws'));
if (HAS_TERRAFORM && !HAS_MIRROR) console.warn(`no provider mirror at ${MIRROR}: the mirror test is skipped`);

function workspace(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'tf-tools-'));
  const dir = join(root, 'work');
  mkdirSync(join(root, 'home'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, scratch: join(root, 'home') };
}

describe('the CLI configuration every run gets', () => {
  it('turns off checkpoint calls and points provider installation at a mirror when there is one', () => {
    expect(cliConfig()).toBe('disable_checkpoint = true\n');
    expect(cliConfig({ mirror: '/opt/tf', pluginCacheDir: '/tmp/cache' })).toBe(
      'disable_checkpoint = true\nplugin_cache_dir = "/tmp/cache"\nprovider_installation {\n  filesystem_mirror {\n    path = "/opt/tf"\n  }\n}\n',
    );
  });
});

describe.skipIf(!HAS_TERRAFORM)('the real terraform binary', () => {
  it('streams machine-readable messages and collects error diagnostics with file and line', async () => {
    const ws = workspace({ 'main.tf': 'resource "terraform_data" "a" {\n  input = var.nope\n}\n' });
    const messages: UiMessage[] = [];
    await runTerraform(['init', '-input=false', '-json'], { bin: 'terraform', ...ws, ui: true });
    const r = await runTerraform(['plan', '-input=false', '-json'], {
      bin: 'terraform',
      ...ws,
      ui: true,
      onMessage: (m) => messages.push(m),
    });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual([
      'main.tf:2:11: Reference to undeclared input variable: An input variable with the name "nope" has not been declared. This variable can be declared with a variable "nope" {} block.',
    ]);
    expect(messages[0]).toMatchObject({ type: 'version', terraform: expect.any(String) });
  });

  it('stops a run with SIGTERM: Terraform saves what it applied and says it was interrupted', async () => {
    const ws = workspace({
      'main.tf': `resource "terraform_data" "fast" {
  input = "done"
}
resource "terraform_data" "slow" {
  depends_on = [terraform_data.fast]
  provisioner "local-exec" {
    command = "sleep 60"
  }
}
`,
    });
    expect(
      (await runTerraform(['init', '-input=false', '-json'], { bin: 'terraform', ...ws, ui: true })).code,
    ).toBe(0);
    const texts: string[] = [];
    let started = false;
    const started$ = Date.now();
    // Stop it the moment the slow provisioner runs (what the deadline does, without racing a clock):
    // SIGTERM first, SIGKILL only after the grace.
    const stop = new AbortController();
    const r = await runTerraform(['apply', '-auto-approve', '-input=false', '-json'], {
      bin: 'terraform',
      ...ws,
      ui: true,
      signal: stop.signal,
      graceMs: 30_000,
      onMessage: (m) => {
        texts.push(m['@message']);
        if (m.type === 'provision_start') {
          started = true;
          stop.abort();
        }
      },
    });
    expect(started).toBe(true);
    expect(r.interrupted).toBe(true);
    expect(r.code).not.toBe(0);
    expect(Date.now() - started$).toBeLessThan(40_000);
    // The graceful stop persisted the state: the resource that finished is in it.
    const state = JSON.parse(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8'));
    expect(state.resources.map((x: { name: string }) => x.name)).toContain('fast');
    expect(texts.join('\n')).toMatch(/terraform_data\.fast: Creation complete/);
  }, 60_000);

  it('rebuilds a working directory from a plan file alone (root and local modules) and applies it', async () => {
    const ws = workspace({
      'main.tf': 'module "net" {\n  source = "./modules/net"\n}\noutput "id" {\n  value = module.net.id\n}\n',
    });
    mkdirSync(join(ws.dir, 'modules/net'), { recursive: true });
    writeFileSync(
      join(ws.dir, 'modules/net/main.tf'),
      'resource "terraform_data" "n" {\n  input = "n"\n}\noutput "id" {\n  value = terraform_data.n.id\n}\n',
    );
    await runTerraform(['init', '-input=false'], { bin: 'terraform', ...ws });
    expect(
      (await runTerraform(['plan', '-input=false', '-out=p.tfplan'], { bin: 'terraform', ...ws })).code,
    ).toBe(0);
    const plan = readPlanFile(readFileSync(join(ws.dir, 'p.tfplan')));
    expect(plan.state).toEqual({ lineage: '', serial: 0 });
    expect(plan.configSha256).toMatch(/^[0-9a-f]{64}$/);
    const elsewhere = workspace({});
    restoreWorkdir(plan, elsewhere.dir);
    writeFileSync(join(elsewhere.dir, 'p.tfplan'), readFileSync(join(ws.dir, 'p.tfplan')));
    expect(existsSync(join(elsewhere.dir, 'modules/net/main.tf'))).toBe(true);
    expect(
      (await runTerraform(['init', '-input=false', '-get=false'], { bin: 'terraform', ...elsewhere })).code,
    ).toBe(0);
    const applied = await runTerraform(['apply', '-input=false', 'p.tfplan'], {
      bin: 'terraform',
      ...elsewhere,
    });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Resources: 1 added');
  }, 60_000);

  it.skipIf(!HAS_MIRROR)(
    'installs providers from a filesystem mirror, with no registry',
    async () => {
      const ws = workspace({
        'main.tf':
          'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "5.100.0"\n    }\n  }\n}\n',
      });
      const r = await runTerraform(['init', '-input=false', '-json'], {
        bin: 'terraform',
        ...ws,
        ui: true,
        providers: { mirror: MIRROR },
      });
      expect(r.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(readFileSync(join(ws.dir, '.terraform.lock.hcl'), 'utf8')).toContain(
        'registry.terraform.io/hashicorp/aws',
      );
    },
    60_000,
  );
});
