// Whether the process launcher may make cgroups of its own, as this machine
// says: cgroup v2 at /sys/fs/cgroup, not root, a delegated ancestor with the
// memory controller. Where one was delegated, a process moved into a cgroup
// made there is measured by it and killed with it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCgroup, delegatedCgroup, joinCgroup, killCgroup, removeCgroup } from '../../../src/emulator/launchers/cgroup.ts';
import { cgroupPeak, cgroupProcesses } from '../../../src/emulator/launchers/sandbox-memory.ts';

describe('a cgroup of its own for a runtime', () => {
  const found = delegatedCgroup();

  it("is allowed only as this machine's cgroups and user allow it", () => {
    if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      expect(found).toEqual({ reason: '/sys/fs/cgroup is not a cgroup v2 hierarchy (cgroup v1, or a hybrid one)' });
      expect(createCgroup()).toBeUndefined();
    } else if (process.getuid?.() === 0) {
      expect(found).toEqual({ reason: 'running as root, whose write access says nothing about delegation' });
    } else if ('dir' in found) {
      const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))![1]!;
      expect(join('/sys/fs/cgroup', own).startsWith(found.dir)).toBe(true);
      expect(readFileSync(join(found.dir, 'cgroup.subtree_control'), 'utf8')).toMatch(/\bmemory\b/);
    } else {
      expect(found.reason).toMatch(/^(no cgroup above this process was delegated to it|this process is in no cgroup v2 cgroup)/);
    }
  });

  it.runIf('dir' in found)('measures and kills what runs in it', async () => {
    const dir = createCgroup()!;
    const child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(32 * 1024 * 1024, 1); setTimeout(() => b, 60000)'], {
      stdio: 'ignore',
    });
    const closed = new Promise((resolve) => child.once('close', resolve));
    try {
      expect(joinCgroup(dir, child.pid!)).toBe(true);
      expect(cgroupProcesses(dir)).toEqual([child.pid]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(cgroupPeak(dir)).toBeGreaterThan(32 * 1024 * 1024);
      // cgroup.kill came with Linux 5.14; before it the process group kill is all there is.
      if (existsSync(join(dir, 'cgroup.kill'))) {
        killCgroup(dir);
        await closed;
      }
    } finally {
      child.kill('SIGKILL');
      await closed;
      await removeCgroup(dir);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
