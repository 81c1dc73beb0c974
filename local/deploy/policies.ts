import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../shared/config/schema/index.ts';
import { type PolicyDocument, policyFor } from './ram.ts';
import { analyse, apisByFunction } from './reach.ts';

export interface GeneratedPolicies {
  /** Per function: the APIs its bundle can call (`product:Api`). */
  apis: Record<string, string[]>;
  policies: Record<string, PolicyDocument>;
}

/** One policy per function of `functionNames` that has a bundle, from the code and the configuration. */
export async function generatePolicies(
  root: string,
  config: Config,
  functionNames: string[],
): Promise<GeneratedPolicies> {
  const apis = apisByFunction(await analyse(root));
  const policies: Record<string, PolicyDocument> = {};
  const unmapped: string[] = [];
  for (const fn of functionNames) {
    const { policy, unknown } = policyFor(apis[fn] ?? [], config, functionNames);
    unmapped.push(...unknown.map((api) => `${fn}: ${api}`));
    policies[fn] = policy;
  }
  if (unmapped.length)
    throw new Error(
      `no RAM action is known for these API calls (add them to local/deploy/ram.ts):\n  ${unmapped.join('\n  ')}`,
    );
  return { apis, policies };
}

export const policyText = (policy: PolicyDocument) => `${JSON.stringify(policy, null, 2)}\n`;

/** Files under `dir` that differ from what was generated: missing, changed, or left over. */
export function comparePolicies(dir: string, policies: Record<string, PolicyDocument>): string[] {
  const problems: string[] = [];
  for (const [fn, policy] of Object.entries(policies)) {
    const file = join(dir, `${fn}.json`);
    if (!existsSync(file)) problems.push(`${file}: missing`);
    else if (readFileSync(file, 'utf8') !== policyText(policy))
      problems.push(`${file}: differs from the code`);
  }
  return problems;
}

export function writePolicies(dir: string, policies: Record<string, PolicyDocument>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(policies).map(([fn, policy]) => {
    const file = join(dir, `${fn}.json`);
    writeFileSync(file, policyText(policy));
    return file;
  });
}
