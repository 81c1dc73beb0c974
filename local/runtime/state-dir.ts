import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Who runs on a state directory, and where its servers answer (for the CLI's defaults). */
export interface Owner {
  pid: number;
  since: string;
  runtimeUrl?: string | undefined;
  sandboxUrl?: string | undefined;
}

const FILE = 'owner.json';

export class StateDirInUse extends Error {
  override name = 'StateDirInUse';
}

/** Whether a process with this pid is alive (EPERM: alive, but someone else's). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner of `dir`, if any (an owner file left by a dead process does not count). */
export function ownerOf(dir: string): Owner | undefined {
  const file = join(dir, FILE);
  if (!existsSync(file)) return undefined;
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Owner;
    return isAlive(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claim `dir` for this process: one local system per state directory (two would share one PGlite,
 * one async queue and one set of buckets, and the second's exit would pull the first's files away).
 * Refuses, naming the process, when another live process holds it; takes over a dead one's claim.
 * Claiming again from the same process only adds what it says (its URLs).
 */
export function claimStateDir(dir: string, about: Partial<Owner> = {}): { release(): void } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, FILE);
  for (let attempt = 0; ; attempt++) {
    const current = ownerOf(dir);
    if (current && current.pid !== process.pid) {
      throw new StateDirInUse(
        `the state directory ${dir} is in use by fc-devops (pid ${current.pid}${current.runtimeUrl ? `, ${current.runtimeUrl}` : ''}, since ${current.since}); stop it, or pass --state <another directory>`,
      );
    }
    const owner: Owner = {
      ...current,
      pid: process.pid,
      since: current?.since ?? new Date().toISOString(),
      ...about,
    };
    if (current) {
      writeFileSync(file, `${JSON.stringify(owner)}\n`);
      break;
    }
    // Nobody alive holds it: clear a dead owner's file, then create ours only if no one beat us to it.
    rmSync(file, { force: true });
    try {
      writeFileSync(file, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw error;
    }
  }
  return {
    release() {
      // Only our own claim: a later owner's file is theirs.
      if (ownerOf(dir)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}
