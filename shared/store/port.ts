/**
 * The state store: what makes every side effect happen once, serializes work on one target, and
 * remembers what ran. One SQL schema behind it, on PostgreSQL or PGlite.
 */

export type Claim =
  | { status: 'claimed'; key: string; owner: string; takenOver: boolean; run?: Run }
  | { status: 'completed'; key: string; result: unknown }
  | { status: 'in_progress'; key: string; owner: string; leaseExpiresAt: Date }
  /** The key was first claimed with another payload (`payloadSha256`). */
  | { status: 'mismatch'; key: string };

export type LockResult =
  | { acquired: true; name: string; owner: string; token: number; expiresAt: Date }
  | { acquired: false; name: string; holder: string; expiresAt: Date };

/** Proof of holding a lock; writes that carry it are refused once a newer holder exists. */
export interface Fence {
  lock: string;
  owner: string;
  token: number;
}

export const RunStatus = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RunStatus)[number];

export interface Run {
  id: string;
  kind: string;
  subject: string;
  status: RunStatus;
  attempt: number;
  correlationId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  result: unknown;
  error: unknown;
  logBytes: number;
  /** Named stages in order (fetch, validate, build...; backup created, listed, planned, deleted). */
  stages: RunStage[];
  /** When someone asked the run to stop, and who; the work ends as `cancelled` once it sees it. */
  cancelRequestedAt: Date | null;
  cancelRequestedBy: string | null;
}

export interface RunStage {
  name: string;
  startedAt: string;
  /** Set when the next stage starts or the run ends. */
  endedAt?: string;
  /** 0-100 within the stage, where it is known (a backup task's percentage, packer's steps). */
  progress?: number;
  detail?: string;
}

/** A console sign-in: the key it is for and until when. */
export interface ConsoleSession {
  keyId: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface RunQuery {
  kind?: string;
  subject?: string;
  status?: RunStatus;
  since?: Date;
  until?: Date;
  limit?: number;
  /** From the previous page's `next`. */
  cursor?: string;
}

export interface HistoryEntry<V = unknown> {
  key: string;
  seq: number;
  value: V;
  actor: string | null;
  note: string | null;
  createdAt: Date;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected';

export interface Approval {
  id: string;
  subject: string;
  action: string;
  payload: unknown;
  requestedBy: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  expiresAt: Date;
  createdAt: Date;
}

export type Decision =
  | { ok: true; approval: Approval }
  | {
      ok: false;
      reason: 'not-found' | 'bad-token' | 'already-decided' | 'expired' | 'self-approval';
      approval?: Approval;
    };

export interface AuditRecord {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  decision: string;
  reason: string | null;
  source: string | null;
  details: unknown;
}

/** A saved Terraform plan: its status and what it is bound to; the (sealed) file is read apart. */
export interface SavedPlan {
  id: string;
  workspace: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  meta: Record<string, unknown>;
}

/** One version of a workspace's Terraform state. */
export interface StateVersion {
  workspace: string;
  version: number;
  lineage: string;
  serial: number;
  /** Base64 MD5 of the data, as Terraform's http backend sends it. */
  md5: string;
  runId: string | null;
  createdAt: Date;
}

/** An environment made from a workspace template; its state is kept under its id. */
export interface EnvironmentRecord {
  id: string;
  template: string;
  owner: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  meta: Record<string, unknown>;
}

/** One probe of a monitoring check. */
export interface ProbeSample {
  check: string;
  region: string;
  at: Date;
  up: boolean;
  latencyMs: number | null;
  status: number | null;
  /** The error class of a failed probe (timeout, refused, dns, tls, status, body, ...). */
  error: string | null;
  detail: string | null;
}

/** Availability and latency percentiles (nearest rank, over the probes that were up) of a window. */
export interface ProbeStats {
  probes: number;
  up: number;
  availability: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RunInput {
  kind: string;
  subject: string;
  correlationId?: string;
  attempt?: number;
  status?: RunStatus;
}

export interface Store {
  readonly engine: 'postgres' | 'pglite';

  // Idempotency: claim before acting, complete or fail after.
  /** With `run`, a claim that wins also records that run, in the same statement. */
  claim(
    key: string,
    options: { owner: string; leaseMs: number; ttlMs?: number; payloadSha256?: string; run?: RunInput },
  ): Promise<Claim>;
  /** False when the claim was lost (its lease ran out and someone else took the key over). */
  complete(key: string, owner: string, result: unknown): Promise<boolean>;
  /** Gives the key back so a retry can claim it. */
  fail(key: string, owner: string, error: unknown): Promise<boolean>;
  purgeExpired(): Promise<number>;

  // Leased locks with fencing tokens.
  acquireLock(name: string, options: { owner: string; ttlMs: number }): Promise<LockResult>;
  renewLock(fence: Fence, ttlMs: number): Promise<boolean>;
  releaseLock(fence: Fence): Promise<boolean>;
  /** Who holds the lock now (undefined when it is free). */
  lockHolder(
    name: string,
  ): Promise<{ holder: string; token: number; expiresAt: Date; acquiredAt: Date } | undefined>;
  /** Release a lock whoever holds it (force-unlock); the holder's fenced writes are refused after. */
  breakLock(name: string): Promise<{ holder: string; token: number; expiresAt: Date } | undefined>;

  // Runs and their logs.
  createRun(input: RunInput): Promise<Run>;
  updateRun(
    id: string,
    patch: { status?: RunStatus; result?: unknown; error?: unknown; attempt?: number },
    options?: { fence?: Fence },
  ): Promise<Run>;
  /**
   * A run ends and the idempotency key it ran under completes with its result, in one statement;
   * `completed` is false when the claim was lost (as `complete`).
   */
  finishRun(
    id: string,
    patch: { status: RunStatus; result?: unknown },
    key: { key: string; owner: string },
  ): Promise<{ run: Run; completed: boolean }>;
  appendRunLog(id: string, text: string): Promise<void>;
  readRunLog(id: string, options?: { tailBytes?: number }): Promise<string>;
  getRun(id: string): Promise<Run | undefined>;
  /**
   * Start stage `name` (ending the one before), or, when it is the current stage, update its
   * progress and detail. A finished run's stages are not changed.
   */
  recordStage(id: string, stage: { name: string; progress?: number; detail?: string }): Promise<Run>;
  /** Ask a queued or running run to stop; a queued one is cancelled at once. Undefined: no such run. */
  requestCancel(id: string, by: string): Promise<Run | undefined>;
  /** Read the log from a byte offset (a live view asks for what came since it last looked). */
  readRunLogFrom(id: string, offset: number): Promise<{ text: string; next: number }>;
  listRuns(query?: RunQuery): Promise<{ runs: Run[]; next: string | undefined }>;

  // Ordered histories (image channels, release targets).
  appendHistory<V>(
    key: string,
    entry: { value: V; actor?: string; note?: string },
    options?: { fence?: Fence },
  ): Promise<HistoryEntry<V>>;
  readHistory<V>(key: string, options?: { limit?: number }): Promise<HistoryEntry<V>[]>;

  // Approvals: created with a secret token (only its hash is kept), decided once.
  createApproval(input: {
    subject: string;
    action: string;
    payload?: unknown;
    requestedBy: string;
    ttlMs: number;
  }): Promise<{ approval: Approval; token: string }>;
  decideApproval(input: {
    id: string;
    token: string;
    decision: 'approved' | 'rejected';
    decidedBy: string;
    reason?: string;
  }): Promise<Decision>;
  getApproval(id: string): Promise<Approval | undefined>;

  // Console sessions, kept by the SHA-256 of their token.
  createSession(input: { tokenSha256: string; keyId: string; ttlMs: number }): Promise<ConsoleSession>;
  /** The session, unless it is unknown or expired. */
  getSession(tokenSha256: string): Promise<ConsoleSession | undefined>;
  deleteSession(tokenSha256: string): Promise<void>;

  // Append-only audit log.
  audit(input: {
    actor: string;
    action: string;
    target: string;
    decision: string;
    reason?: string;
    source?: string;
    details?: unknown;
  }): Promise<AuditRecord>;
  listAudit(query?: {
    target?: string;
    actor?: string;
    since?: Date;
    limit?: number;
  }): Promise<AuditRecord[]>;

  // Buffers (grouping windows, digests) and sliding-window rate limits.
  bufferAdd(key: string, item: unknown, dueAt: Date): Promise<{ opened: boolean; size: number }>;
  takeDueBuffers(options?: {
    prefix?: string;
  }): Promise<{ key: string; items: unknown[]; createdAt: Date }[]>;
  rateTake(
    key: string,
    limit: number,
    windowMs: number,
    options?: { inFlightMs?: number },
  ): Promise<{ allowed: true; slot: string } | { allowed: false; retryAt: Date }>;
  /** Date a slot from `rateTake` when its use ended (it counts from then), or give it back unused. */
  rateSettle(slot: string, options?: { used?: boolean }): Promise<void>;

  // Terraform: saved plans (files sealed by the caller) and every version of each workspace's state.
  savePlan(input: {
    workspace: string;
    status: string;
    expiresAt: Date;
    meta: Record<string, unknown>;
    file?: Buffer;
  }): Promise<SavedPlan>;
  getPlan(id: string): Promise<SavedPlan | undefined>;
  readPlanFile(id: string): Promise<Buffer | undefined>;
  listPlans(workspace: string, options?: { limit?: number }): Promise<SavedPlan[]>;
  updatePlan(
    id: string,
    change: { from: readonly string[]; to: string; meta?: Record<string, unknown> },
    options?: { fence?: Fence },
  ): Promise<SavedPlan | undefined>;
  putState(
    workspace: string,
    input: { data: string; lineage: string; serial: number; runId?: string },
    options?: { fence?: Fence },
  ): Promise<StateVersion>;
  getState(
    workspace: string,
    options?: { version?: number },
  ): Promise<(StateVersion & { data: string }) | undefined>;
  listStates(workspace: string, options?: { limit?: number }): Promise<StateVersion[]>;
  /** Forget every version of a workspace's state (its environment was destroyed); how many there were. */
  deleteStates(workspace: string, options?: { fence?: Fence }): Promise<number>;

  // Terraform environments.
  createEnvironment(input: {
    id: string;
    template: string;
    owner: string;
    status: string;
    expiresAt: Date;
    meta: Record<string, unknown>;
  }): Promise<EnvironmentRecord>;
  getEnvironment(id: string): Promise<EnvironmentRecord | undefined>;
  /** Newest first; `statuses` narrows them (e.g. the ones still alive). */
  listEnvironments(query?: {
    template?: string;
    statuses?: readonly string[];
    limit?: number;
  }): Promise<EnvironmentRecord[]>;
  /**
   * Move an environment from one of `from` to `to` (merging `meta`, setting `expiresAt`) in one
   * conditional statement; undefined when it was in no status of `from`.
   */
  updateEnvironment(
    id: string,
    change: { from: readonly string[]; to: string; meta?: Record<string, unknown>; expiresAt?: Date },
    options?: { fence?: Fence },
  ): Promise<EnvironmentRecord | undefined>;

  /** Keep probe results; one already kept (same check, region, time) is left as it was. Returns how many were new. */
  recordSamples(samples: ProbeSample[]): Promise<number>;
  /** Newest first. */
  readSamples(
    check: string,
    query?: { since?: Date; limit?: number; region?: string },
  ): Promise<ProbeSample[]>;
  sampleStats(check: string, since: Date, region?: string): Promise<ProbeStats>;
  purgeSamples(before: Date): Promise<number>;
  monitorStates<S>(): Promise<{ check: string; region: string; state: S; updatedAt: Date }[]>;
  saveMonitorStates(states: { check: string; region: string; state: unknown }[]): Promise<void>;

  close(): Promise<void>;
}
