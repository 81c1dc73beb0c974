import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Figure } from '../../bench/figures.ts';

const BENCHES = [
  'cold-start',
  'store',
  'notify',
  'retention',
  'terraform',
  'scale',
  'monitor',
  'webhook',
] as const;

/**
 * How far a budget figure may drift past its goal before `--check` fails: sizes are deterministic,
 * time ratios move with the machine's load from run to run.
 */
const TOLERANCE: Record<string, number> = { bundle: 1, 'cold-start': 1.25 };

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      template: { type: 'string', default: 's.yaml' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',');
  const unknown = only?.filter((o) => !(BENCHES as readonly string[]).includes(o)) ?? [];
  if (unknown.length) {
    console.error(`bench: no bench named ${unknown.join(', ')} (benches: ${BENCHES.join(', ')})`);
    return 2;
  }
  const wanted = (name: (typeof BENCHES)[number]) => !only || only.includes(name);
  // With --json, stdout carries the figures alone; the benches' own lines go to stderr.
  const log = console.log;
  if (values.json) console.log = (...a: unknown[]) => console.error(...a);
  const figures: Figure[] = [];
  try {
    if (wanted('cold-start')) {
      const { runBench } = await import('../../bench/cold-start.ts');
      figures.push(...(await runBench(resolve(values.template))));
    }
    if (wanted('store')) {
      const { runStoreBench } = await import('../../bench/store.ts');
      figures.push(...(await runStoreBench()));
    }
    if (wanted('notify')) {
      const { runNotifyBench } = await import('../../bench/notify.ts');
      runNotifyBench();
    }
    if (wanted('retention')) {
      const { runRetentionBench } = await import('../../bench/retention.ts');
      figures.push(...runRetentionBench());
    }
    if (wanted('terraform')) {
      const { runTerraformBench } = await import('../../bench/terraform.ts');
      runTerraformBench();
    }
    if (wanted('scale')) {
      const { runScaleBench } = await import('../../bench/scale.ts');
      runScaleBench();
    }
    if (wanted('monitor')) {
      const { runMonitorBench } = await import('../../bench/monitor.ts');
      await runMonitorBench();
    }
    if (wanted('webhook')) {
      const { runWebhookBench } = await import('../../bench/webhook.ts');
      figures.push(...(await runWebhookBench()));
    }
  } finally {
    console.log = log;
  }
  const { formatFigures, shortfall } = await import('../../bench/figures.ts');
  if (values.json) {
    console.log(
      JSON.stringify(
        figures.map((f) => ({ ...f, ratio: f.value / f.goal })),
        null,
        2,
      ),
    );
  } else if (figures.length) {
    console.log(formatFigures(figures));
  }
  if (!values.check) return 0;
  // The budgets every function is held to, in CI: bundle size and cold start.
  const breaches = figures.filter((f) => {
    const tolerance = TOLERANCE[f.id.split(':')[0]!];
    return tolerance !== undefined && shortfall(f) > tolerance;
  });
  for (const f of breaches)
    console.error(
      `bench: over budget: ${f.what}: ${f.value.toFixed(2)} ${f.unit}, budget ${f.goal} ${f.unit}${TOLERANCE[f.id.split(':')[0]!]! > 1 ? ` (+${((TOLERANCE[f.id.split(':')[0]!]! - 1) * 100).toFixed(0)}% for noise)` : ''}`,
    );
  if (values.check && !figures.some((f) => f.id.split(':')[0]! in TOLERANCE))
    console.error('bench: --check found no budget figure (run it with the cold-start bench)');
  return breaches.length ? 1 : 0;
}
