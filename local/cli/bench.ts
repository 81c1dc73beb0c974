import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { template: { type: 'string', default: 's.yaml' }, only: { type: 'string' } },
  });
  if (!values.only || values.only === 'cold-start') {
    const { runBench } = await import('../../bench/cold-start.ts');
    await runBench(resolve(values.template));
  }
  if (!values.only || values.only === 'store') {
    const { runStoreBench } = await import('../../bench/store.ts');
    await runStoreBench();
  }
  if (!values.only || values.only === 'notify') {
    const { runNotifyBench } = await import('../../bench/notify.ts');
    runNotifyBench();
  }
  if (!values.only || values.only === 'retention') {
    const { runRetentionBench } = await import('../../bench/retention.ts');
    runRetentionBench();
  }
  if (!values.only || values.only === 'terraform') {
    const { runTerraformBench } = await import('../../bench/terraform.ts');
    runTerraformBench();
  }
  if (!values.only || values.only === 'scale') {
    const { runScaleBench } = await import('../../bench/scale.ts');
    runScaleBench();
  }
  if (!values.only || values.only === 'monitor') {
    const { runMonitorBench } = await import('../../bench/monitor.ts');
    await runMonitorBench();
  }
  if (!values.only || values.only === 'webhook') {
    const { runWebhookBench } = await import('../../bench/webhook.ts');
    await runWebhookBench();
  }
  return 0;
}
