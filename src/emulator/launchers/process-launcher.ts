import { spawn } from 'node:child_process';
import { constants, readFileSync, readdirSync } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LaunchError } from '../errors.ts';
import { lineSplitter, type ExitStatus, type LaunchedRuntime, type Launcher } from './launcher.ts';

export interface ProcessLauncherOptions {
  /** The bootstrap command and its arguments. */
  command: string[];
  /** Working directory and LAMBDA_TASK_ROOT. */
  taskRoot: string;
  description?: string;
  /** The directory that stands for /opt/extensions: each executable in it is started as an external extension. */
  extensionsDir?: string;
}

/** Runs the runtime as a local process: a `bootstrap` file or any command. */
export class ProcessLauncher implements Launcher {
  readonly description: string;
  readonly #options: ProcessLauncherOptions;

  constructor(options: ProcessLauncherOptions) {
    if (options.command.length === 0) throw new LaunchError('the bootstrap command is empty: give the program to run');
    this.#options = options;
    this.description = options.description ?? options.command.join(' ');
  }

  environment(): Record<string, string> {
    return {
      LAMBDA_TASK_ROOT: this.#options.taskRoot,
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    };
  }

  launch(environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#spawn(this.#options.command as [string, ...string[]], environment, output, this.description);
  }

  async extensions(): Promise<string[]> {
    const dir = this.#options.extensionsDir;
    if (!dir) return [];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new LaunchError(`cannot read the extensions directory ${dir}: ${(error as Error).message}`, { cause: error });
    }
    const paths: string[] = [];
    for (const name of names.sort()) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      // Lambda runs what is executable there; anything else is skipped, as it would fail to start.
      const executable = await access(path, constants.X_OK).then(
        () => true,
        () => false,
      );
      if (executable) paths.push(path);
    }
    return paths;
  }

  launchExtension(path: string, environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#spawn([path], environment, output, `extension ${path}`);
  }

  async #spawn(
    command: [string, ...string[]],
    environment: Record<string, string>,
    output: (line: string) => void,
    description: string,
  ): Promise<LaunchedRuntime> {
    const [program, ...args] = command;
    const child = spawn(program, args, {
      cwd: this.#options.taskRoot,
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout kills the runtime's children too.
      detached: true,
    });
    const out = lineSplitter(output);
    const err = lineSplitter(output);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('close', (code, signal) => {
        out.flush();
        err.flush();
        resolve({ code, signal });
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) => reject(new LaunchError(`cannot start ${description}: ${error.message}`, { cause: error })));
    });
    const pid = child.pid!;
    let done = false;
    void exited.then(() => (done = true));
    return {
      exited,
      signal: async (signal) => {
        if (done) return;
        try {
          process.kill(-pid, signal);
        } catch {
          // Already gone.
        }
      },
      peakMemoryBytes: () => peakTreeMemory(pid),
      dispose: async () => {
        if (!done) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await exited;
      },
    };
  }

  async dispose(): Promise<void> {}
}

/**
 * Peak resident memory of a process and its descendants: the sum of each
 * one's VmHWM (high-water mark) from /proc. Undefined where /proc is missing.
 * Every REPORT line calls this, so the tree is found from the root down.
 */
export async function peakTreeMemory(rootPid: number): Promise<number | undefined> {
  const tree = childrenTree(rootPid) ?? (await scannedTree(rootPid));
  if (!tree) return undefined;
  let total = 0;
  let found = false;
  for (const pid of tree) {
    let status = '';
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      // Gone since.
    }
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (match) {
      total += Number(match[1]) * 1024;
      found = true;
    }
  }
  return found ? total : undefined;
}

/**
 * The process tree from each thread's /proc/<pid>/task/<tid>/children: a few
 * small reads where a scan reads every process on the machine. Undefined when
 * the kernel has no such files (CONFIG_PROC_CHILDREN) or a read fails midway.
 * Synchronous: /proc is in memory, and a thread-pool round trip per file
 * would cost more than the read.
 */
function childrenTree(rootPid: number): Set<number> | undefined {
  const tree = new Set<number>([rootPid]);
  try {
    for (const pid of tree) {
      for (const thread of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8');
        for (const child of children.split(' ')) if (child) tree.add(Number(child));
      }
    }
  } catch {
    return undefined;
  }
  return tree;
}

/** The process tree from the parent pid of every process in /proc. */
async function scannedTree(rootPid: number): Promise<Set<number> | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  const parents = new Map<number, number>();
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
        // The command name may hold spaces and parentheses: the ppid is the 2nd field after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (Number.isFinite(ppid)) parents.set(Number(entry), ppid);
      }),
  );
  const tree = new Set<number>([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}
