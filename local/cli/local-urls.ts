import { resolve } from 'node:path';
import { ownerOf } from '../runtime/state-dir.ts';

/**
 * The URL of the local runtime `fc-devops dev` runs on a state directory (it records its URLs
 * there), so commands reach the instance they were meant for even when its ports were changed.
 */
export function localRuntimeUrl(stateDir = process.env.FC_DEVOPS_STATE ?? '.fc-devops'): string {
  return ownerOf(resolve(stateDir))?.runtimeUrl ?? 'http://127.0.0.1:8787';
}
