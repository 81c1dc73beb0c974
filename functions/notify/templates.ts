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

  'infra.plan.waiting': `Plan waiting for approval: {{subject}}

{{summary}}
Changes: {{details.add}} to add, {{details.change}} to change, {{details.destroy}} to destroy.`,

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
From {{details.from}} to {{details.to}}.`,

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
