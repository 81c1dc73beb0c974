import type { JsonPatchOp } from '../../shared/kube/types.ts';

/**
 * What `release:state:<target>` holds for a k8s-deployment target: the rollout fc-devops started
 * and is watching (the timer moves it on), or how the last one ended.
 */
export interface KubeRelease {
  kind: 'k8s-deployment';
  operation: 'promote' | 'rollback';
  status: 'rolling' | 'verifying' | 'succeeded' | 'rolling-back' | 'rolled-back' | 'paused' | 'failed';
  /** What served before (its revision and container images) and what is rolling out. */
  from: { revision: number; images: Record<string, string> };
  to: { images: Record<string, string>; revision?: number };
  /** The Deployment generation the change made: the rollout watched is that one. */
  generation: number;
  startedAt: string;
  /** When the rollout completed; the health checks must pass until `healthyUntil`. */
  completedAt?: string;
  healthyUntil?: string;
  /** The last thing the watch saw (kubectl's words). */
  progress?: string;
  by: string;
  automatic?: boolean;
  reason?: string;
  /** For a rollback after a failed promote: that promote. */
  undoing?: { from: Record<string, string>; to: Record<string, string> };
  /**
   * Written before the patch is sent, cleared once the change is recorded: the images the patch
   * sets and the state before. Still there after its operation ended means the store write behind
   * the patch failed; the Deployment itself then says whether the patch landed.
   */
  applying?: { want: Record<string, string>; previous: KubeRelease | null; since: string } | undefined;
}

export const ACTIVE: KubeRelease['status'][] = ['rolling', 'verifying', 'rolling-back'];
export const isActive = (r: { status?: unknown } | undefined) =>
  r !== undefined && ACTIVE.includes(r.status as KubeRelease['status']);

export type Patch = JsonPatchOp[];
