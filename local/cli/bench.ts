import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { template: { type: 'string', default: 's.yaml' } } });
  const { runBench } = await import('../../bench/cold-start.ts');
  return runBench(resolve(values.template));
}
