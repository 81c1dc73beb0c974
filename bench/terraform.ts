import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBundle } from '../functions/terraform/bundle.ts';
import { summarizePlan, summaryLines } from '../functions/terraform/summary.ts';

const ACTIONS = [['create'], ['update'], ['delete'], ['delete', 'create'], ['no-op'], ['read']];

/** A `show -json` document of n resource changes in every action, as Terraform writes it. */
function bigPlan(n: number): string {
  const resource_changes = Array.from({ length: n }, (_, i) => ({
    address: `module.m${i % 50}.alicloud_instance.web[${i}]`,
    mode: 'managed',
    type: 'alicloud_instance',
    name: 'web',
    index: i,
    provider_name: 'registry.terraform.io/aliyun/alicloud',
    change: {
      actions: ACTIONS[i % ACTIONS.length],
      before: { instance_type: 'ecs.g7.large', tags: { team: 'platform', n: String(i) } },
      after: { instance_type: 'ecs.g7.xlarge', tags: { team: 'platform', n: String(i) } },
      after_unknown: { id: true },
    },
  }));
  return JSON.stringify({
    format_version: '1.2',
    terraform_version: '1.11.4',
    resource_changes,
    resource_drift: resource_changes.slice(0, n / 10),
    output_changes: { vpc_id: { actions: ['update'] } },
  });
}

function median(fn: () => void, runs = 5): { median: number; min: number } {
  fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)]!, min: times[0]! };
}

/**
 * The terraform function's own CPU work per event: summarising a 10,000-resource plan (parse plus
 * summary, goal under 200 ms) and checking a bundle near the entry cap (4,800 files in 100 directories of the 5,000 entries allowed).
 */
export function runTerraformBench(): void {
  const n = Number(process.env.BENCH_RESOURCES ?? 10_000);
  const json = bigPlan(n);
  let lines = 0;
  const plan = median(() => {
    lines = summaryLines(summarizePlan(JSON.parse(json))).length;
  });
  console.log(
    `\nterraform plan summary: ${n} resource changes (${(json.length / 1e6).toFixed(1)} MB of show -json), median of 5: ${plan.median.toFixed(1)} ms (min ${plan.min.toFixed(1)} ms, goal < 200 ms); ${lines} summary lines`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'fcd-bench-tf-'));
  try {
    const files = Number(process.env.BENCH_BUNDLE_FILES ?? 4_800);
    for (let i = 0; i < files; i++) {
      const sub = join(dir, 'src', `m${i % 100}`);
      if (i < 100) mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `f${i}.tf`), `# file ${i}\nvariable "v${i}" { default = ${i} }\n`);
    }
    execFileSync('tar', ['-czf', join(dir, 'b.tar.gz'), '-C', join(dir, 'src'), '.']);
    const bytes = readFileSync(join(dir, 'b.tar.gz'));
    let entries = 0;
    const bundle = median(() => {
      entries = checkBundle('b.tar.gz', bytes, { maxBytes: 50 * 1024 * 1024, maxFiles: 5_000 }).length;
    });
    console.log(
      `terraform bundle check: ${entries} entries (${(bytes.length / 1024).toFixed(0)} KiB tar.gz), median of 5: ${bundle.median.toFixed(1)} ms (min ${bundle.min.toFixed(1)} ms)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
