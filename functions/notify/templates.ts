/**
 * Message templates per event kind, as text: a title line, a blank line, the body. `{{field}}` is
 * replaced by the event's field (`{{details.exitCode}}`, `{{labels.team}}` reach inside). Kinds
 * without a template of their own use the family's (`image.build.*`), then `default`.
 */
export const TEMPLATES: Record<string, string> = {
  default: `{{summary}}

{{subject}}`,

  'image.build.started': `Image build started: {{subject}}

Packer is building {{subject}}.`,

  'image.build.succeeded': `Image built: {{subject}}

{{summary}}
Images: {{details.images}}`,

  'image.build.failed': `Image build failed: {{subject}}

{{summary}}
Last lines of the log:
{{details.logTail}}`,

  'image.prune.report': `Image prune: {{summary}}

Deleted:
{{details.deleted}}

Kept, and why:
{{details.kept}}`,

  'image.prune.failed': `Image prune had failures: {{summary}}

Failed:
{{details.failed}}

Deleted:
{{details.deleted}}

Kept, and why:
{{details.kept}}`,

  'terraform.plan.ready': `Terraform plan: {{subject}}

{{details.changes}}
Plan {{details.plan}}. {{details.next}}
Full plan: {{details.fullPlan}}`,

  'terraform.plan.empty': `Terraform plan, no changes: {{subject}}

{{summary}}`,

  'terraform.plan.failed': `Terraform plan FAILED: {{subject}}

{{summary}}
Last lines of the log:
{{details.logTail}}`,

  'terraform.plan.approved': `Terraform plan approved: {{subject}}

{{summary}}`,

  'terraform.plan.rejected': `Terraform plan rejected: {{subject}}

{{summary}}`,

  'terraform.applied': `Terraform applied: {{subject}}

{{summary}} (plan {{details.plan}}, by {{details.by}}).`,

  'terraform.apply.failed': `Terraform apply FAILED: {{subject}}

{{summary}}
{{details.next}}
Last lines of the log:
{{details.logTail}}`,

  'terraform.apply.interrupted': `Terraform apply INTERRUPTED: {{subject}}

{{summary}}
{{details.next}}`,

  'terraform.apply.refused': `Terraform apply refused: {{subject}}

{{summary}}
Next: {{details.next}}`,

  'terraform.unlocked': `Terraform workspace force-unlocked: {{subject}}

{{summary}}`,

  'terraform.env.created': `Environment ready: {{subject}}

{{summary}}
Outputs {{details.outputs}}
{{details.next}}`,

  'terraform.env.create-failed': `Environment NOT created: {{subject}}

{{summary}}
{{details.next}}`,

  'terraform.env.expiring': `Environment expiring: {{subject}}

{{summary}}
{{details.next}}`,

  'terraform.env.destroyed': `Environment destroyed: {{subject}}

{{summary}}`,

  'terraform.env.destroy-failed': `Environment destroy FAILED: {{subject}}

{{summary}}
Next: {{details.next}}
Last lines of the log:
{{details.logTail}}`,

  'terraform.env.lock-held': `Environment destroy blocked: {{subject}}

{{summary}}
{{details.next}}`,

  'terraform.drift.detected': `Terraform drift: {{subject}}

{{summary}}
{{details.changes}}
Next: {{details.next}}`,

  'terraform.drift.resolved': `Terraform drift gone: {{subject}}

{{summary}}`,

  'backup.rotated': `Backups rotated: {{subject}}

{{summary}}
Kept {{details.kept}}, deleted {{details.deleted}}.`,

  'backup.drill.passed': `Restore drill passed: {{subject}}

{{summary}}
Time to restore: {{details.minutes}} minutes.`,

  'backup.drill.failed': `Restore drill FAILED: {{subject}}

{{summary}}`,

  'scale.changed': `Capacity changed: {{subject}}

{{summary}}
From {{details.from}} to {{details.to}} (asked {{details.asked}}; rules: {{details.rules}}), by {{details.by}}: {{details.activity}}.`,

  'scale.completed': `Capacity change finished: {{subject}}

{{summary}}`,

  'scale.failed': `Capacity change FAILED: {{subject}}

{{summary}}
Reason for the change: {{details.reason}}`,

  'scale.refused': `Capacity not changed: {{subject}}

{{summary}}`,

  'release.promoted': `Promoted: {{subject}}

{{summary}}`,

  'release.rolled-back': `Rolled back: {{subject}}

{{summary}}`,
};

export function templateFor(kind: string): string {
  for (let k = kind; k.includes('.'); k = k.slice(0, k.lastIndexOf('.'))) {
    if (TEMPLATES[k]) return TEMPLATES[k]!;
  }
  return TEMPLATES.default!;
}
