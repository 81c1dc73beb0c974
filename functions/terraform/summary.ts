/**
 * A plan summarised from `terraform show -json <planfile>` (never from the text plan, whose format
 * keeps changing): counts per action, whether anything is destroyed, the first addresses of each
 * action, output changes, and drift found while refreshing, kept apart from the planned changes.
 */
export interface PlanSummary {
  changes: { add: number; change: number; destroy: number; replace: number; import: number; forget: number };
  /** Something is deleted or replaced: approvals may ask for more (`destructive` in the workspace). */
  destructive: boolean;
  /** Nothing to apply: no resource changes and no output changes. */
  noChanges: boolean;
  /** The first addresses of each action (at most `limit`), with how many there are in all. */
  resources: Record<'create' | 'update' | 'delete' | 'replace' | 'import' | 'forget', AddressList>;
  outputs: { add: string[]; change: string[]; remove: string[] };
  /** Objects that changed outside Terraform since the last apply (seen while refreshing). */
  drift: { count: number; update: AddressList; delete: AddressList };
  terraformVersion: string;
}

export interface AddressList {
  total: number;
  first: string[];
}

interface Change {
  address?: unknown;
  change?: { actions?: unknown; importing?: unknown };
}

const list = (): AddressList => ({ total: 0, first: [] });

/** The action a resource change stands for, or undefined for reads and no-ops. */
export function actionOf(
  actions: readonly string[],
  importing: boolean,
): keyof PlanSummary['resources'] | undefined {
  const a = actions.join(',');
  // create-then-delete (create_before_destroy) and delete-then-create are both a replace.
  if (a === 'delete,create' || a === 'create,delete') return 'replace';
  if (a === 'create') return 'create';
  if (a === 'update') return importing ? 'import' : 'update';
  if (a === 'delete') return 'delete';
  if (a === 'forget') return 'forget';
  if (a === 'no-op' && importing) return 'import';
  return undefined;
}

/** Summarise a plan's JSON representation. Missing arrays (Terraform omits empty ones) are empty. */
export function summarizePlan(plan: unknown, limit = 10): PlanSummary {
  const p = (plan ?? {}) as {
    resource_changes?: Change[];
    resource_drift?: Change[];
    output_changes?: Record<string, { actions?: unknown }>;
    terraform_version?: unknown;
  };
  const resources = {
    create: list(),
    update: list(),
    delete: list(),
    replace: list(),
    import: list(),
    forget: list(),
  };
  const add = (l: AddressList, address: string) => {
    l.total++;
    if (l.first.length < limit) l.first.push(address);
  };
  for (const rc of p.resource_changes ?? []) {
    const actions = Array.isArray(rc.change?.actions) ? (rc.change.actions as string[]) : [];
    const action = actionOf(actions, Boolean(rc.change?.importing));
    if (action) add(resources[action], String(rc.address ?? '?'));
  }
  const drift = { count: 0, update: list(), delete: list() };
  for (const rc of p.resource_drift ?? []) {
    const actions = Array.isArray(rc.change?.actions) ? (rc.change.actions as string[]).join(',') : '';
    if (actions === 'update') add(drift.update, String(rc.address ?? '?'));
    else if (actions === 'delete') add(drift.delete, String(rc.address ?? '?'));
    else continue;
    drift.count++;
  }
  const outputs = { add: [] as string[], change: [] as string[], remove: [] as string[] };
  for (const [name, oc] of Object.entries(p.output_changes ?? {})) {
    const a = Array.isArray(oc?.actions) ? (oc.actions as string[]).join(',') : '';
    if (a === 'create') outputs.add.push(name);
    else if (a === 'update' || a === 'delete,create' || a === 'create,delete') outputs.change.push(name);
    else if (a === 'delete') outputs.remove.push(name);
  }
  const changes = {
    add: resources.create.total,
    change: resources.update.total,
    destroy: resources.delete.total,
    replace: resources.replace.total,
    import: resources.import.total,
    forget: resources.forget.total,
  };
  const resourceChanges = Object.values(changes).reduce((s, n) => s + n, 0);
  const outputChanges = outputs.add.length + outputs.change.length + outputs.remove.length;
  return {
    changes,
    destructive: changes.destroy > 0 || changes.replace > 0,
    noChanges: resourceChanges === 0 && outputChanges === 0,
    resources,
    outputs,
    drift,
    terraformVersion: typeof p.terraform_version === 'string' ? p.terraform_version : 'unknown',
  };
}

/** `2 to add, 1 to change, 1 to replace, 0 to destroy` (and imports or forgets when there are some). */
export function countsLine(s: PlanSummary): string {
  const c = s.changes;
  const parts = [
    `${c.add} to add`,
    `${c.change} to change`,
    `${c.replace} to replace`,
    `${c.destroy} to destroy`,
  ];
  if (c.import) parts.push(`${c.import} to import`);
  if (c.forget) parts.push(`${c.forget} to forget`);
  return parts.join(', ');
}

/**
 * The summary as lines for a chat message: counts, the destructive warning first, up to a few
 * addresses per action, outputs, drift. Capped at `maxChars`, so it fits DingTalk, Lark, WeCom and
 * Slack whatever the plan's size; the full plan stays with the run.
 */
export function summaryLines(s: PlanSummary, maxChars = 1500): string[] {
  const lines: string[] = [];
  if (s.destructive)
    lines.push(`DESTRUCTIVE: ${s.changes.destroy} to destroy, ${s.changes.replace} to replace`);
  lines.push(s.noChanges ? 'No changes.' : countsLine(s));
  // Addresses while the line stays short; the count of the rest always fits.
  const show = (label: string, l: AddressList) => {
    if (l.total === 0) return;
    const shown: string[] = [];
    for (const a of l.first) {
      if (shown.length > 0 && `${label}: ${[...shown, a].join(', ')}`.length > 280) break;
      shown.push(a);
    }
    const more = l.total > shown.length ? ` (and ${l.total - shown.length} more)` : '';
    lines.push(`${label}: ${shown.join(', ')}${more}`);
  };
  show('destroy', s.resources.delete);
  show('replace', s.resources.replace);
  show('create', s.resources.create);
  show('update', s.resources.update);
  show('import', s.resources.import);
  show('forget', s.resources.forget);
  const outs = [
    ...s.outputs.add.map((o) => `+${o}`),
    ...s.outputs.change.map((o) => `~${o}`),
    ...s.outputs.remove.map((o) => `-${o}`),
  ];
  if (outs.length) lines.push(`outputs: ${outs.join(', ')}`);
  if (s.drift.count > 0) {
    lines.push(`drift outside Terraform: ${s.drift.count} object(s)`);
    show('  changed outside', s.drift.update);
    show('  deleted outside', s.drift.delete);
  }
  const out: string[] = [];
  let size = 0;
  for (const line of lines) {
    const cut = line.length > 300 ? `${line.slice(0, 297)}...` : line;
    if (size + cut.length + 1 > maxChars) {
      out.push('(more in the run log)');
      break;
    }
    out.push(cut);
    size += cut.length + 1;
  }
  return out;
}
