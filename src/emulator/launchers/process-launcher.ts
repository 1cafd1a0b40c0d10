import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LaunchError } from '../errors.ts';
import { createCgroup, joinCgroup, killCgroup, removeCgroup } from './cgroup.ts';
import { lineSplitter, type ExitStatus, type LaunchedRuntime, type Launcher } from './launcher.ts';
import type { MountNamespace } from './mount-namespace.ts';
import { cgroupPeak, higher, PeakMeter, treeResidentPeak } from './sandbox-memory.ts';

export interface ProcessLauncherOptions {
  /** The bootstrap command and its arguments (as the namespace sees them, when there is one). */
  command: string[];
  /** Working directory (on the host). */
  taskRoot: string;
  /** What environment() gives: LAMBDA_TASK_ROOT, PATH and the like, and what the function inherits. */
  variables: Record<string, string>;
  description?: string;
  /** The directory that stands for /opt/extensions: each executable in it is started as an external extension. */
  extensionsDir?: string;
  /** Runs the runtime and extensions in a mount namespace of this set-up (cwd /var/task). */
  namespace?: MountNamespace;
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
    return { ...this.#options.variables };
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
      // Inside the namespace the extensions folder is /opt/extensions, where Lambda has it.
      if (executable) paths.push(this.#options.namespace?.extensionsMounted ? `/opt/extensions/${name}` : path);
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
    const [program, ...args] = (this.#options.namespace?.wrap(command) ?? command) as [string, ...string[]];
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
    let cgroup = createCgroup();
    if (cgroup !== undefined && !joinCgroup(cgroup, pid)) {
      await removeCgroup(cgroup);
      cgroup = undefined;
    }
    const meter = new PeakMeter(() => higher(treeResidentPeak([pid]), cgroup === undefined ? undefined : cgroupPeak(cgroup)));
    let done = false;
    // 'exit' comes before 'close' (which waits for the pipes, which a grandchild may hold open): the pid is not ours from here.
    child.once('exit', () => {
      done = true;
      // A cgroup outlives its processes: its peak holds what the last sample missed.
      if (cgroup !== undefined) meter.raise(cgroupPeak(cgroup));
      meter.stop();
    });
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // Already gone.
      }
    };
    return {
      exited,
      signal: async (signal) => {
        if (done) return;
        meter.sample();
        kill(signal);
      },
      peakMemoryBytes: async () => meter.sample(),
      dispose: async () => {
        if (!done) {
          // The last reading, taken while the processes still are: a timed-out runtime's REPORT has it.
          meter.sample();
          kill('SIGKILL');
          if (cgroup !== undefined) killCgroup(cgroup);
        }
        await exited;
        meter.stop();
        if (cgroup !== undefined) await removeCgroup(cgroup);
      },
    };
  }

  async dispose(): Promise<void> {}
}

/**
 * Peak resident memory of a process and its descendants: the sum of each
 * one's VmHWM (high-water mark), found down /proc/<pid>/task/<tid>/children.
 * Undefined where /proc is missing.
 */
export async function peakTreeMemory(rootPid: number): Promise<number | undefined> {
  return treeResidentPeak([rootPid]);
}
