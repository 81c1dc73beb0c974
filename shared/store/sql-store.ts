import { createApproval, decideApproval, getApproval } from './approvals.ts';
import { audit, listAudit } from './audit.ts';
import { bufferAdd, rateSettle, rateTake, takeDueBuffers } from './buffers.ts';
import {
  createEnvironment,
  deleteStates,
  getEnvironment,
  listEnvironments,
  updateEnvironment,
} from './environments.ts';
import { appendHistory, readHistory } from './history.ts';
import { claim, purgeExpired, settle } from './idempotency.ts';
import { acquireLock, breakLock, lockHolder, releaseLock, renewLock } from './locks.ts';
import {
  monitorStates,
  purgeSamples,
  readSamples,
  recordSamples,
  sampleStats,
  saveMonitorStates,
} from './monitor.ts';
import type { Store } from './port.ts';
import {
  appendRunLog,
  createRun,
  finishRun,
  getRun,
  listRuns,
  readRunLog,
  readRunLogFrom,
  recordStage,
  requestCancel,
  updateRun,
} from './runs.ts';
import { createSession, deleteSession, getSession } from './sessions.ts';
import { type SqlClient, storableParams } from './sql.ts';
import {
  getPlan,
  getState,
  listPlans,
  listStates,
  putState,
  readPlanFile,
  savePlan,
  updatePlan,
} from './terraform.ts';

/** The Store over any SQL engine with PostgreSQL's dialect. */
export function sqlStore(
  client: SqlClient,
  options: { now?: () => Date; idempotencyTtlMs?: number } = {},
): Store {
  const db = storableParams(client);
  const now = options.now ?? (() => new Date());
  const ttl = options.idempotencyTtlMs ?? 24 * 3_600_000;
  return {
    engine: db.engine,
    claim: (key, o) => claim(db, now(), key, { ...o, ttlMs: o.ttlMs ?? ttl }),
    complete: (key, owner, result) => settle(db, now(), key, owner, { status: 'completed', result }),
    fail: (key, owner, error) => settle(db, now(), key, owner, { status: 'failed', error }),
    purgeExpired: () => purgeExpired(db, now()),
    acquireLock: (name, o) => acquireLock(db, now(), name, o),
    renewLock: (fence, ttlMs) => renewLock(db, now(), fence, ttlMs),
    releaseLock: (fence) => releaseLock(db, fence),
    lockHolder: (name) => lockHolder(db, now(), name),
    breakLock: (name) => breakLock(db, now(), name),
    createRun: (input) => createRun(db, now(), input),
    updateRun: (id, patch, o) => updateRun(db, now(), id, patch, o?.fence),
    finishRun: (id, patch, key) => finishRun(db, now(), id, patch, key),
    appendRunLog: (id, text) => appendRunLog(db, id, text),
    readRunLog: (id, o) => readRunLog(db, id, o?.tailBytes),
    getRun: (id) => getRun(db, id),
    recordStage: (id, stage) => recordStage(db, now(), id, stage),
    requestCancel: (id, by) => requestCancel(db, now(), id, by),
    readRunLogFrom: (id, offset) => readRunLogFrom(db, id, offset),
    createSession: (input) => createSession(db, now(), input),
    getSession: (tokenSha256) => getSession(db, now(), tokenSha256),
    deleteSession: (tokenSha256) => deleteSession(db, tokenSha256),
    listRuns: (query = {}) => listRuns(db, query),
    appendHistory: (key, entry, o) => appendHistory(db, now(), key, entry, o?.fence),
    readHistory: (key, o) => readHistory(db, key, o?.limit),
    createApproval: (input) => createApproval(db, now(), input),
    decideApproval: (input) => decideApproval(db, now(), input),
    getApproval: (id) => getApproval(db, id),
    audit: (input) => audit(db, now(), input),
    listAudit: (query = {}) => listAudit(db, query),
    bufferAdd: (key, item, dueAt) => bufferAdd(db, now(), key, item, dueAt),
    takeDueBuffers: (o = {}) => takeDueBuffers(db, now(), o.prefix ?? ''),
    rateTake: (key, limit, windowMs, o = {}) => rateTake(db, now(), key, limit, windowMs, o.inFlightMs),
    rateSettle: (slot, o = {}) => rateSettle(db, now(), slot, o.used ?? true),
    savePlan: (input) => savePlan(db, now(), input),
    getPlan: (id) => getPlan(db, id),
    readPlanFile: (id) => readPlanFile(db, id),
    listPlans: (workspace, o = {}) => listPlans(db, workspace, o.limit),
    updatePlan: (id, change, o) => updatePlan(db, now(), id, change, o?.fence),
    putState: (workspace, input, o) => putState(db, now(), workspace, input, o?.fence),
    getState: (workspace, o = {}) => getState(db, workspace, o.version),
    listStates: (workspace, o = {}) => listStates(db, workspace, o.limit),
    deleteStates: (workspace, o) => deleteStates(db, now(), workspace, o?.fence),
    createEnvironment: (input) => createEnvironment(db, now(), input),
    getEnvironment: (id) => getEnvironment(db, id),
    listEnvironments: (query = {}) => listEnvironments(db, query),
    updateEnvironment: (id, change, o) => updateEnvironment(db, now(), id, change, o?.fence),
    recordSamples: (samples) => recordSamples(db, samples),
    readSamples: (check, q = {}) => readSamples(db, check, q),
    sampleStats: (check, since, region) => sampleStats(db, check, since, region),
    purgeSamples: (before) => purgeSamples(db, before),
    monitorStates: () => monitorStates(db),
    saveMonitorStates: (states) => saveMonitorStates(db, now(), states),
    close: () => db.close(),
  };
}
