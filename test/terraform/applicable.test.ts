import { describe, expect, it } from 'vitest';
import { type Plan, type PlanStatus, whyNotApplicable } from '../../functions/terraform/model.ts';
import { summarizePlan } from '../../functions/terraform/summary.ts';

const at = (minutes: number) => new Date(Date.parse('2026-11-30T10:00:00Z') + minutes * 60_000);

function plan(
  over: {
    id?: string;
    status?: PlanStatus;
    created?: number;
    expires?: number;
    serial?: number;
    lineage?: string;
  } = {},
): Plan {
  return {
    id: over.id ?? 'plan-a',
    workspace: 'loadtest',
    status: over.status ?? 'approved',
    createdAt: at(over.created ?? 0),
    updatedAt: at(over.created ?? 0),
    expiresAt: at(over.expires ?? 60),
    meta: {
      source: { kind: 'commit', repository: 'acme/infra', commit: 'a'.repeat(40), ref: 'refs/heads/main' },
      state: { lineage: over.lineage ?? 'L1', serial: over.serial ?? 4 },
      configSha256: 'c',
      variablesSha256: 'v',
      summary: summarizePlan({}),
      runId: 'run-1',
      requestedBy: 'git:github',
      approvals: [],
      applyRunId: 'run-9',
    },
  };
}

const state = { lineage: 'L1', serial: 4 };

describe('whether a saved plan may be applied', () => {
  it.each<[string, Plan, Parameters<typeof whyNotApplicable>[1], string | undefined]>([
    ['an approved, current plan', plan(), { now: at(5), newest: plan(), state }, undefined],
    [
      'one that expired',
      plan(),
      { now: at(60), newest: plan(), state },
      'it expired at 2026-11-30T11:00:00.000Z',
    ],
    [
      'one a newer commit superseded',
      plan(),
      { now: at(5), newest: plan({ id: 'plan-b', created: 3 }), state },
      `a newer plan plan-b (commit ${'a'.repeat(12)} (refs/heads/main)) was made since`,
    ],
    [
      'one whose state moved',
      plan(),
      { now: at(5), newest: plan(), state: { lineage: 'L1', serial: 5 } },
      'the state moved since the plan (serial 4 then, 5 now)',
    ],
    [
      'one whose state is another one',
      plan(),
      { now: at(5), newest: plan(), state: { lineage: 'L2', serial: 4 } },
      'the state is another one now (lineage L2, planned from L1)',
    ],
    [
      'a first plan, still no state',
      plan({ lineage: '', serial: 0 }),
      { now: at(5), newest: undefined, state: undefined },
      undefined,
    ],
    [
      'a first plan once some state exists',
      plan({ lineage: '', serial: 0 }),
      { now: at(5), newest: undefined, state: { lineage: 'L9', serial: 1 } },
      'the state moved since the plan (serial 0 then, 1 now)',
    ],
    [
      'one on a backend only Terraform reads',
      plan(),
      { now: at(5), newest: plan(), state: 'unknown' },
      undefined,
    ],
    [
      'one already applied',
      plan({ status: 'applied' }),
      { now: at(5), newest: plan(), state },
      'it was already applied',
    ],
    [
      'one being applied',
      plan({ status: 'applying' }),
      { now: at(5), newest: plan(), state },
      'it is being applied (run run-9)',
    ],
    [
      'one waiting for approval',
      plan({ status: 'awaiting-approval' }),
      { now: at(5), newest: plan(), state },
      'it is waiting for approval',
    ],
    [
      'one with nothing to do',
      plan({ status: 'empty' }),
      { now: at(5), newest: plan(), state },
      'it has no changes to apply',
    ],
    [
      'one discarded',
      plan({ status: 'discarded' }),
      { now: at(5), newest: plan(), state },
      'it was discarded',
    ],
  ])('%s', (_what, p, context, expected) => {
    expect(whyNotApplicable(p, context)).toBe(expected);
  });
});
