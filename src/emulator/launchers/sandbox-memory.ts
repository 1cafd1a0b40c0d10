import { readFileSync, readdirSync } from 'node:fs';

/**
 * How a sandbox's Max Memory Used is measured, for processes and containers
 * alike: the peak, over the sandbox's life, of
 *
 *   max(its cgroup's peak, the sum of VmHWM over its live processes)
 *
 * Lambda reports the peak of the sandbox's cgroup, in a microVM whose page
 * cache starts cold, so the function's own binary and libraries are charged to
 * it as they are read. On a developer's machine those files are usually in
 * the page cache already, charged to whoever read them first (the build, the
 * image pull): a cgroup here then holds little more than the anonymous memory,
 * a third of what Lambda shows for a Node runtime. VmHWM (the high-water mark
 * of a process's resident set) counts the file pages a process maps whoever
 * read them, but not what its exited children used, nor the page cache of the
 * files it writes. Each is a lower bound of Lambda's figure; their maximum is
 * the closer one, and it is the same quantity whether the sandbox is a
 * process tree or a container.
 *
 * All reads are of a few small files of /proc and /sys/fs/cgroup, never a
 * scan of every process: synchronous, as those files are in memory and a
 * thread-pool round trip per file would cost more than the read.
 */

/** How often a running sandbox is sampled: a runtime that crashes takes its VmHWM with it. */
export const SAMPLE_INTERVAL_MS = 100;

/** VmHWM of one process, in bytes; undefined once it has exited (an exited process has no memory map) or without /proc. */
export function residentPeak(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * A process and its descendants, from each thread's
 * /proc/<pid>/task/<tid>/children: a few small reads per process of the tree.
 * Only the process itself when the kernel has no such files
 * (CONFIG_PROC_CHILDREN); what a read finds gone is left out.
 */
export function processTree(rootPid: number): Set<number> {
  const tree = new Set<number>([rootPid]);
  for (const pid of tree) {
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const thread of threads) {
      let children = '';
      try {
        children = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8');
      } catch {
        // The thread ended, or the kernel has no children files.
      }
      for (const child of children.split(' ')) if (child) tree.add(Number(child));
    }
  }
  return tree;
}

/** The sum of VmHWM over the processes and their descendants; undefined when none of them could be read. */
export function treeResidentPeak(rootPids: Iterable<number>): number | undefined {
  let total: number | undefined;
  const seen = new Set<number>();
  for (const root of rootPids) {
    for (const pid of processTree(root)) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      const peak = residentPeak(pid);
      if (peak !== undefined) total = (total ?? 0) + peak;
    }
  }
  return total;
}

/** The sum of VmHWM over these processes (a container's, all of them listed); undefined when none could be read. */
export function residentPeakSum(pids: Iterable<number>): number | undefined {
  let total: number | undefined;
  for (const pid of pids) {
    const peak = residentPeak(pid);
    if (peak !== undefined) total = (total ?? 0) + peak;
  }
  return total;
}

/** The larger of two readings, either of which may be missing. */
export function higher(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** A cgroup's peak memory in bytes: memory.peak (cgroup v2, Linux 5.19+), memory.max_usage_in_bytes (v1), or memory.current. */
export function cgroupPeak(dir: string): number | undefined {
  for (const file of ['memory.peak', 'memory.max_usage_in_bytes', 'memory.current']) {
    let text: string;
    try {
      text = readFileSync(`${dir}/${file}`, 'utf8');
    } catch {
      continue;
    }
    const bytes = Number.parseInt(text, 10);
    if (Number.isFinite(bytes)) return bytes;
  }
  return undefined;
}

/** The processes in a cgroup (cgroup.procs), empty once it is gone. */
export function cgroupProcesses(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The highest reading of a sandbox's memory so far. Read on demand, every
 * SAMPLE_INTERVAL_MS while the sandbox runs, and once more before it is
 * killed (the launcher does that), so that the REPORT of a timed-out or
 * crashed invoke has a figure; after the end it keeps the last peak.
 */
export class PeakMeter {
  readonly #read: () => number | undefined;
  readonly #ceiling: number;
  #peak: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `ceiling`: a sandbox's memory limit, where one is enforced. Its cgroup
   * cannot go over it, but VmHWM counts pages charged elsewhere too, so a
   * sum of them can.
   */
  constructor(read: () => number | undefined, options: { ceiling?: number; intervalMs?: number } = {}) {
    this.#read = read;
    this.#ceiling = options.ceiling ?? Number.POSITIVE_INFINITY;
    this.sample();
    // unref: a sandbox that is not otherwise waited on must not keep the emulator's process alive.
    this.#timer = setInterval(() => this.sample(), options.intervalMs ?? SAMPLE_INTERVAL_MS).unref();
  }

  /** Reads now (while running) and returns the peak so far; undefined when nothing could ever be read. */
  sample(): number | undefined {
    if (this.#timer !== undefined) this.raise(this.#read());
    return this.#peak;
  }

  /** Takes a figure known otherwise (the memory limit, for a sandbox killed for going over it). */
  raise(bytes: number | undefined): void {
    if (bytes === undefined) return;
    const capped = Math.min(bytes, this.#ceiling);
    if (this.#peak === undefined || capped > this.#peak) this.#peak = capped;
  }

  /**
   * No more reads: the sandbox has ended. Its process ids may be given to
   * other processes from now on, so what they read would be someone else's.
   */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get peak(): number | undefined {
    return this.#peak;
  }
}
