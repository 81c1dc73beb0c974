// FC alias targets: promote directly or through canary weights, roll back, step a canary on.
import { type AliasRelease, type AliasWeights, aliasAt, decide, promoteCalls } from './canary.ts';
import { runHealthChecks } from './health.ts';
import type { PromoteResult, Reconciled, RollbackResult } from './outcome.ts';
import {
  type Actor,
  type AliasTarget,
  actorName,
  callWrittenAhead,
  frozenState,
  type HistoryRecord,
  keys,
  type Locked,
  latest,
  operator,
  TIMER,
  tell,
  write,
} from './state.ts';

type Weights = { versionId: string; additionalVersionWeight?: Record<string, number> | undefined };
const weights = (a: Weights) => JSON.stringify(Object.entries(a.additionalVersionWeight ?? {}).sort());
const sameAlias = (a: Weights, b: Weights) => a.versionId === b.versionId && weights(a) === weights(b);

/**
 * Move the alias to `next`'s weights with a write-ahead record: the state says `applying` first,
 * then the alias changes, then the state and history are written. If the cloud call fails, what
 * the alias really says decides at once; if a store write after it fails, the next operation or
 * timer tick on the target finds `applying` and does the same (see `reconcileAlias`).
 */
async function apply(
  d: Locked,
  name: string,
  target: AliasTarget,
  next: AliasRelease,
  want: AliasWeights,
  actor: Actor,
  record?: HistoryRecord,
  recordBy: Actor = actor,
): Promise<void> {
  const previous = (await latest<AliasRelease>(d.store, keys.state(name))) ?? null;
  const since = d.now().toISOString();
  await write(d, keys.state(name), { ...next, applying: { alias: want, previous, record, since } }, actor);
  const outcome = await callWrittenAhead(
    d,
    name,
    () => d.cloud.fc.updateAlias(target.function, target.alias, want),
    () => reconcileAlias(d, name, target, { quiet: true }),
  );
  if (outcome === 'settled') return;
  await write(d, keys.state(name), next, actor);
  if (record) await write(d, keys.history(name), record, recordBy);
}

/**
 * Finish or drop a change that was interrupted between the cloud and the store: if the alias says
 * what the change wanted, record it as done; otherwise put the state back as it was.
 */
export async function reconcileAlias(
  d: Locked,
  name: string,
  target: AliasTarget,
  options: { quiet?: boolean } = {},
): Promise<Reconciled> {
  const state = await latest<AliasRelease>(d.store, keys.state(name));
  if (!state?.applying) return { kind: 'clean' };
  const { applying, ...next } = state;
  const alias = await d.cloud.fc.getAlias(target.function, target.alias);
  const what = `${target.function}:${target.alias} to version ${applying.alias.versionId}`;
  if (sameAlias(alias, applying.alias)) {
    await write(d, keys.state(name), next, TIMER, 'reconciled: the alias had changed');
    if (applying.record) await write(d, keys.history(name), applying.record, TIMER);
    if (!options.quiet)
      await tell(d, {
        kind: 'release.reconciled',
        severity: 'warning',
        subject: name,
        summary: `an interrupted change of ${what} had reached the alias; it is now recorded`,
      });
    return { kind: 'completed', what };
  }
  if (applying.previous) await write(d, keys.state(name), applying.previous, TIMER, 'reconciled: dropped');
  else
    await write(d, keys.state(name), { ...next, status: 'rolled-back', nextAt: null }, TIMER, 'reconciled');
  if (!options.quiet)
    await tell(d, {
      kind: 'release.reconciled',
      severity: 'warning',
      subject: name,
      summary: `an interrupted change of ${what} never reached the alias (it serves version ${alias.versionId}); it is dropped`,
    });
  return { kind: 'abandoned', what };
}

export async function promoteAlias(
  d: Locked,
  name: string,
  target: AliasTarget,
  input: { version?: string | undefined; dryRun: boolean; requiresApproval: boolean },
  actor: Actor,
): Promise<PromoteResult> {
  const frozen = await frozenState(d.store, name);
  if (frozen) return { kind: 'frozen', reason: frozen.reason ?? 'no reason given' };
  const running = await latest<AliasRelease>(d.store, keys.state(name));
  if (running?.status === 'running') return { kind: 'in-progress', release: running };
  const fc = d.cloud.fc;
  if (input.version) {
    const { versions } = await fc.listVersions(target.function, { limit: 100 });
    if (!versions.some((v) => v.versionId === input.version))
      return {
        kind: 'not-found',
        error: 'VersionNotFound',
        message: `version ${input.version} of ${target.function} does not exist`,
      };
  }
  const alias = await fc.getAlias(target.function, target.alias);
  if (input.dryRun) {
    const calls = promoteCalls(
      {
        functionName: target.function,
        alias: target.alias,
        from: alias.versionId,
        to: input.version ?? '<published>',
        steps: target.steps,
      },
      target.stepWaitSeconds,
    );
    return {
      kind: 'plan',
      plan: {
        operation: 'promote',
        target: name,
        kind: target.kind,
        requiresApproval: input.requiresApproval,
        calls: input.version
          ? calls
          : [{ action: 'PublishFunctionVersion', function: target.function }, ...calls],
      },
    };
  }
  const to =
    input.version ??
    (await fc.publishVersion(target.function, `promoted by ${actorName(actor)} via fc-devops`)).versionId;
  if (to === alias.versionId)
    return { kind: 'unchanged', message: `${target.alias} already points at version ${to}` };
  const canary = target.steps.length > 1;
  const release: AliasRelease = {
    target: name,
    functionName: target.function,
    alias: target.alias,
    from: alias.versionId,
    to,
    steps: target.steps,
    step: 0,
    status: canary ? 'running' : 'succeeded',
    nextAt: canary ? new Date(d.now().getTime() + target.stepWaitSeconds * 1000).toISOString() : null,
    by: actorName(actor),
  };
  const record: HistoryRecord = { action: 'promote', from: release.from, to };
  await apply(d, name, target, release, aliasAt(release, 0), actor, canary ? undefined : record);
  if (!canary) {
    await tell(d, {
      kind: 'release.promoted',
      severity: 'info',
      subject: `${name} v${to}`,
      summary: `${actorName(actor)} promoted ${target.function}:${target.alias} from version ${release.from} to ${to}`,
    });
    return { kind: 'promoted', from: release.from, to };
  }
  await tell(d, {
    kind: 'release.step',
    severity: 'info',
    subject: `${name} v${to}`,
    summary: `canary of version ${to} on ${target.function}:${target.alias} at ${target.steps[0]}%`,
  });
  return { kind: 'canary', release };
}

export async function rollbackAlias(
  d: Locked,
  name: string,
  target: AliasTarget,
  input: { dryRun: boolean; reason?: string | undefined },
  actor: Actor,
): Promise<RollbackResult> {
  const state = await latest<AliasRelease>(d.store, keys.state(name));
  const alias = await d.cloud.fc.getAlias(target.function, target.alias);
  const running = state?.status === 'running';
  let back: string | undefined;
  if (running) back = state.from;
  else {
    const last = (await d.store.readHistory<HistoryRecord>(keys.history(name), { limit: 20 })).find(
      (e) => e.value.to === alias.versionId,
    );
    back = last?.value.from as string | undefined;
  }
  if (!back)
    return { kind: 'nothing', message: `no earlier version of ${target.function}:${target.alias} is known` };
  const want: AliasWeights = { versionId: back, additionalVersionWeight: {} };
  if (input.dryRun)
    return {
      kind: 'plan',
      plan: {
        operation: 'rollback',
        target: name,
        kind: target.kind,
        requiresApproval: false,
        calls: [{ action: 'UpdateAlias', function: target.function, alias: target.alias, ...want }],
      },
    };
  // A canary's main version never moved: what is rolled back is the canary version.
  const from = running ? state.to : alias.versionId;
  const automatic = actor.kind !== 'operator';
  const reason = input.reason ?? `rolled back by ${actorName(actor)}`;
  const next: AliasRelease = {
    ...(state ?? {
      target: name,
      functionName: target.function,
      alias: target.alias,
      from: back,
      to: from,
      steps: [],
      step: 0,
      by: actorName(actor),
    }),
    status: 'rolled-back',
    nextAt: null,
    reason,
    applying: undefined,
  };
  const record: HistoryRecord = { action: 'rollback', from, to: back, reason: input.reason, automatic };
  await apply(d, name, target, next, want, actor, record);
  await tell(d, {
    kind: 'release.rolled-back',
    severity: automatic ? 'error' : 'warning',
    subject: `${name} v${back}`,
    summary: `${automatic ? 'automatic rollback of' : `${actorName(actor)} rolled back`} ${target.function}:${target.alias} to version ${back}${input.reason ? `: ${input.reason}` : ''}`,
  });
  return { kind: 'rolled-back', from, to: back };
}

/** The canary timer's step for one target: move on when due and healthy, roll back when not. */
export async function stepCanary(d: Locked, name: string, target: AliasTarget): Promise<string | undefined> {
  const state = await latest<AliasRelease>(d.store, keys.state(name));
  if (!state || decide(state, d.now(), undefined).kind === 'wait') return undefined;
  const health = await runHealthChecks(target.healthChecks);
  const next = decide(state, d.now(), health);
  if (next.kind === 'rollback') {
    await rollbackAlias(d, name, target, { dryRun: false, reason: next.reason }, TIMER);
    return `rolled back: ${next.reason}`;
  }
  if (next.kind !== 'next') return undefined;
  const updated: AliasRelease = {
    ...state,
    step: next.step,
    status: next.done ? 'succeeded' : 'running',
    nextAt: next.done ? null : new Date(d.now().getTime() + target.stepWaitSeconds * 1000).toISOString(),
  };
  const record: HistoryRecord = { action: 'promote', from: state.from, to: state.to };
  // The promote is the operator's who started it; the timer only carried it out.
  const startedBy = state.by === actorName(TIMER) ? TIMER : operator(state.by);
  await apply(
    d,
    name,
    target,
    updated,
    aliasAt(state, next.step),
    TIMER,
    next.done ? record : undefined,
    startedBy,
  );
  await tell(d, {
    kind: next.done ? 'release.promoted' : 'release.step',
    severity: 'info',
    subject: `${name} v${state.to}`,
    summary: next.done
      ? `canary finished: ${target.function}:${target.alias} now serves version ${state.to}`
      : `canary of version ${state.to} at ${target.steps[next.step]}%`,
  });
  return next.done ? 'promoted' : `step ${next.step}`;
}
