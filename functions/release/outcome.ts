import type { AliasRelease } from './canary.ts';
import type { KubeRelease } from './kube-state.ts';
import type { Target } from './state.ts';

/** What a dry run answers, the same for promotes and rollbacks of every kind of target. */
export interface Plan {
  operation: 'promote' | 'rollback';
  target: string;
  kind: Target['kind'];
  /** A real promote of this target waits for another key to approve it. */
  requiresApproval: boolean;
  /** The calls a real run makes, in order. */
  calls: Record<string, unknown>[];
}

export type PromoteResult =
  | { kind: 'plan'; plan: Plan }
  | { kind: 'frozen'; reason: string }
  | { kind: 'in-progress'; release: AliasRelease | KubeRelease }
  | { kind: 'refused'; status: 400 | 404 | 409 | 502; error: string; message: string }
  | { kind: 'started'; release: KubeRelease }
  | { kind: 'not-found'; error: 'VersionNotFound' | 'ImageNotFound'; message: string }
  | { kind: 'unchanged'; message: string }
  | { kind: 'promoted'; from: unknown; to: unknown }
  | { kind: 'canary'; release: AliasRelease };

export type RollbackResult =
  | { kind: 'plan'; plan: Plan }
  | { kind: 'nothing'; message: string }
  | { kind: 'refused'; status: 400 | 404 | 409 | 502; error: string; message: string }
  | { kind: 'started'; release: KubeRelease }
  | { kind: 'rolled-back'; from: unknown; to: unknown };

/** What reconciling a target found: nothing pending, or an interrupted change completed or dropped. */
export type Reconciled =
  | { kind: 'clean' }
  | { kind: 'completed'; what: string }
  | { kind: 'abandoned'; what: string };
