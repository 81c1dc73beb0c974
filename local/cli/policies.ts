import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config/load.ts';
import { comparePolicies, generatePolicies, writePolicies } from '../deploy/policies.ts';
import { loadProject } from '../runtime/s-yaml.ts';

export const USAGE = `usage: fc-devops policies [--config fc-devops.yaml] [--template s.yaml] [--out infra/policies] [--check]

Writes one RAM policy per function (infra/policies/<function>.json): exactly the Alibaba Cloud
actions its bundle can call, scoped to the resources fc-devops.yaml names. --check compares instead
of writing and exits 1 when a file differs from the code.
`;

export async function policiesCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', default: process.env.FC_DEVOPS_CONFIG ?? 'fc-devops.yaml' },
      template: { type: 'string', default: 's.yaml' },
      out: { type: 'string', default: 'infra/policies' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const root = resolve('.');
  const config = loadConfig(resolve(values.config));
  // Function names only: role ARNs and VPC ids are not needed to know what a function calls.
  const names = loadProject(resolve(values.template), { ...process.env }).functions.map((f) => f.name);
  const { policies, apis } = await generatePolicies(root, config, names);
  const out = resolve(values.out);
  if (values.check) {
    const problems = comparePolicies(out, policies);
    if (problems.length) {
      process.stderr.write(`${problems.join('\n')}\nrun: fc-devops policies --config ${values.config}\n`);
      return 1;
    }
    console.log(`${Object.keys(policies).length} policies match the code`);
    return 0;
  }
  for (const file of writePolicies(out, policies)) console.log(`wrote ${file}`);
  for (const [fn, list] of Object.entries(apis))
    if (names.includes(fn)) console.log(`  ${fn}: ${list.length} API(s)`);
  return 0;
}
