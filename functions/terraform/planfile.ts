import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { sha256Hex } from '../../shared/util/hash.ts';
import { type ArchiveEntry, ArchiveError, readZip } from './archive.ts';

/**
 * What is inside a saved plan file (a zip, as Terraform 1.x writes it): `tfplan`, the prior state
 * (`tfstate`, with its lineage and serial), the configuration snapshot (`tfconfig/m-<module>/…`
 * and `tfconfig/modules.json`) and the dependency lock file.
 */
export interface PlanFile {
  entries: Map<string, Buffer>;
  /** The state the plan was made from. An empty lineage is a first plan (no state yet). */
  state: { lineage: string; serial: number };
  /** SHA-256 over the configuration snapshot and the lock file: what the plan will apply. */
  configSha256: string;
}

const LIMITS = { maxBytes: 1024 * 1024 * 1024, maxEntries: 100_000 };

export function readPlanFile(bytes: Buffer): PlanFile {
  const entries = new Map<string, Buffer>();
  for (const e of readZip(bytes, LIMITS)) if (e.type === 'file') entries.set(e.path, e.data);
  const state = entries.get('tfstate');
  if (!entries.has('tfplan') || !state)
    throw new ArchiveError('not a Terraform plan file (no tfplan or tfstate)');
  const prior = JSON.parse(state.toString('utf8')) as { lineage?: unknown; serial?: unknown };
  return {
    entries,
    state: { lineage: String(prior.lineage ?? ''), serial: Number(prior.serial ?? 0) },
    configSha256: configHash(entries),
  };
}

function configHash(entries: Map<string, Buffer>): string {
  const lines = [...entries]
    .filter(([name]) => name.startsWith('tfconfig/') || name === '.terraform.lock.hcl')
    .map(([name, data]) => `${name}\u0000${sha256Hex(data)}`)
    .sort();
  return sha256Hex(lines.join('\n'));
}

interface ModuleRecord {
  Key: string;
  Dir: string;
  Source?: string;
}

/**
 * Rebuild a working directory from the plan alone: every module's files where the module manifest
 * says they live, the module manifest itself and the lock file. `terraform init -get=false` there
 * then installs only providers and the backend; the source (a commit, a bundle) is not needed again,
 * and what is applied is exactly what was planned.
 */
export function restoreWorkdir(plan: PlanFile, dir: string): void {
  const modules = JSON.parse(
    plan.entries.get('tfconfig/modules.json')?.toString('utf8') ?? '[]',
  ) as ModuleRecord[];
  for (const m of modules) {
    const where = posix.normalize(m.Dir);
    if (posix.isAbsolute(where) || where.split('/').includes('..'))
      throw new ArchiveError(`module ${m.Key} lives outside the working directory (${m.Dir})`);
    const prefix = `tfconfig/m-${m.Key}/`;
    for (const [name, data] of plan.entries) {
      if (!name.startsWith(prefix)) continue;
      const relative = name.slice(prefix.length);
      if (relative.split('/').includes('..')) throw new ArchiveError(`${name}: ".." in a plan's module file`);
      const to = join(dir, where, relative);
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, data);
    }
  }
  mkdirSync(join(dir, '.terraform/modules'), { recursive: true });
  writeFileSync(
    join(dir, '.terraform/modules/modules.json'),
    JSON.stringify({ Modules: modules.map((m) => ({ Key: m.Key, Source: m.Source ?? '', Dir: m.Dir })) }),
  );
  const lock = plan.entries.get('.terraform.lock.hcl');
  if (lock) writeFileSync(join(dir, '.terraform.lock.hcl'), lock);
}

export type { ArchiveEntry };
