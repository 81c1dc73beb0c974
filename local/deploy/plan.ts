import type { FunctionSpec } from '../runtime/s-yaml.ts';

type Props = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

function triggerLine(t: Props): string {
  const c = (t.triggerConfig ?? {}) as Props;
  switch (t.triggerType) {
    case 'http':
      return `http ${t.triggerName} (${((c.methods as string[]) ?? []).join(', ')}; ${c.authType ?? 'anonymous'})`;
    case 'timer':
      return `timer ${t.triggerName} (${c.cronExpression}${c.enable === false ? ', disabled' : ''})`;
    case 'oss': {
      const filter = ((c.filter as Props)?.key ?? {}) as Props;
      return `oss ${t.triggerName} (${t.sourceArn}, ${((c.events as string[]) ?? []).join(' ')}${filter.prefix ? `, prefix ${filter.prefix}` : ''}${filter.suffix ? `, suffix ${filter.suffix}` : ''}; role ${t.invocationRole})`;
    }
    default:
      return `${t.triggerType} ${t.triggerName}`;
  }
}

/** What `s deploy` would create or change, read from s.yaml as resolved; nothing here calls the cloud. */
export function formatPlan(functions: FunctionSpec[]): string {
  const lines: string[] = [];
  const first = functions[0]?.props ?? {};
  const region = str(first.region) ?? '?';
  lines.push(`fc-devops deploy plan: ${functions.length} function(s) in ${region}`);
  const width = Math.max(...functions.map((f) => f.name.length), 8);
  for (const fn of functions) {
    const p = fn.props;
    const disk = p.diskSize ? `, ${p.diskSize} MB disk` : '';
    lines.push(
      `  ${fn.name.padEnd(width)}  ${fn.runtime}, ${fn.memorySize} MB, ${fn.timeout} s${disk}, role ${str(p.role) ?? '(none)'}`,
    );
    const pad = ' '.repeat(width + 4);
    for (const t of (p.triggers as Props[] | undefined) ?? []) lines.push(`${pad}trigger ${triggerLine(t)}`);
    const layers = ((p.layers as string[] | undefined) ?? []).map((l) => l || '(unset)');
    if (layers.length) lines.push(`${pad}layers ${layers.join(', ')}`);
    lines.push(
      `${pad}async: ${fn.maxAsyncRetryAttempts} retries, ${fn.maxAsyncEventAgeInSeconds} s max age, failures to ${fn.onFailure ?? '(nowhere)'}`,
    );
  }
  const vpc = (first.vpcConfig ?? {}) as Props;
  const logs = (first.logConfig ?? {}) as Props;
  const roles = [...new Set(functions.map((f) => str(f.props.role)).filter(Boolean))];
  const layers = [...new Set(functions.flatMap((f) => (f.props.layers as string[] | undefined) ?? []))];
  lines.push(
    `network: VPC ${str(vpc.vpcId) ?? '(unset)'}, vSwitches ${((vpc.vSwitchIds as string[]) ?? []).join(', ') || '(unset)'}, security group ${str(vpc.securityGroupId) ?? '(unset)'}`,
  );
  lines.push(`logs: project ${str(logs.project) ?? '(unset)'}, logstore ${str(logs.logstore) ?? '(unset)'}`);
  lines.push(`roles used (made by infra/, not by s deploy): ${roles.length}`);
  for (const r of roles) lines.push(`  ${r}`);
  lines.push(`layers used (published by infra/): ${layers.length}`);
  for (const l of layers) lines.push(`  ${l || '(unset)'}`);
  lines.push('would run: s deploy -y (Serverless Devs, fc3 component), after npm run build');
  return `${lines.join('\n')}\n`;
}
