import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

let delegated: { dir: string } | { reason: string } | undefined;
let created = 0;

/**
 * Where this process may make cgroups of its own for the runtimes it starts,
 * with the memory controller: the nearest ancestor of its own cgroup (v2)
 * that was delegated to it. Moving a process needs write access to the
 * cgroup.procs of the common ancestor of where it is and where it goes
 * (Documentation/admin-guide/cgroup-v2.rst, "Delegation Containment"), and
 * a cgroup that holds processes cannot pass controllers on ("no internal
 * processes"), so the place is an ancestor that we may write, with memory
 * in its cgroup.subtree_control. Root may write anywhere, so writing says
 * nothing about delegation there: moving a runtime elsewhere in the
 * hierarchy could take it out of the limits its caller runs under, so root
 * does not make cgroups. Decided once per process.
 */
export function delegatedCgroup(): { dir: string } | { reason: string } {
  delegated ??= findDelegatedCgroup();
  return delegated;
}

function findDelegatedCgroup(): { dir: string } | { reason: string } {
  if (!existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    return { reason: `${CGROUP_ROOT} is not a cgroup v2 hierarchy (cgroup v1, or a hybrid one)` };
  }
  if (process.getuid?.() === 0) return { reason: 'running as root, whose write access says nothing about delegation' };
  let own: string | undefined;
  try {
    own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  } catch {
    // No /proc.
  }
  if (own === undefined) return { reason: 'this process is in no cgroup v2 cgroup' };
  for (let dir = join(CGROUP_ROOT, own); dir.startsWith(CGROUP_ROOT); dir = dirname(dir)) {
    try {
      if (!readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('memory')) continue;
      accessSync(dir, constants.W_OK);
      accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
      return { dir };
    } catch {
      // Not delegated to us: look further up.
    }
    if (dir === CGROUP_ROOT) break;
  }
  return { reason: 'no cgroup above this process was delegated to it with the memory controller' };
}

/**
 * A new cgroup for one runtime, under the delegated one, or undefined when
 * there is none or it cannot be made (the runtime is then measured by its
 * processes alone).
 */
export function createCgroup(): string | undefined {
  const parent = delegatedCgroup();
  if (!('dir' in parent)) return undefined;
  const dir = join(parent.dir, `lambda-kit-${process.pid}-${++created}`);
  try {
    mkdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

/** Moves a process (and so the children it starts from then on) into a cgroup; false when the kernel refuses. */
export function joinCgroup(dir: string, pid: number): boolean {
  try {
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills every process in the cgroup (cgroup.kill, Linux 5.14+): a runtime's
 * descendants that left its process group go too, as a whole sandbox does.
 */
export function killCgroup(dir: string): void {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    // An older kernel: the process group kill has done what can be done.
  }
}

/** Removes an emptied cgroup; a process may take a moment to leave it after it was reaped, hence the retries. */
export async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
