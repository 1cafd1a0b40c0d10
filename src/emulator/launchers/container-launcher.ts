import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import Docker from 'dockerode';
import { LaunchError } from '../errors.ts';
import { lineSplitter, type ExitStatus, type LaunchedRuntime, type Launcher } from './launcher.ts';
import { cgroupPeak, cgroupProcesses, higher, PeakMeter, residentPeakSum } from './sandbox-memory.ts';
import { LAMBDA_PATH, RUNTIME_DIR, TASK_ROOT, taskVariables, withInherited, type InheritEnvironment } from './task-environment.ts';

export interface ContainerLauncherOptions {
  image: string;
  /** linux/amd64 or linux/arm64; the image's own when omitted. */
  platform?: string;
  memoryMb: number;
  /** What the function takes from the emulator's environment (none by default). */
  inheritEnvironment?: InheritEnvironment;
  docker?: Docker;
}

/**
 * Runs the function's container image, one container per environment, on the
 * host network (the Runtime API is on 127.0.0.1), with the function's memory
 * size as the container's hard limit, as Lambda enforces it.
 */
export class ContainerLauncher implements Launcher {
  readonly description: string;
  readonly #options: ContainerLauncherOptions;
  readonly #docker: Docker;
  readonly #tmpDirs = new Map<string, string>();
  #extensionPaths: Promise<string[]> | undefined;

  constructor(options: ContainerLauncherOptions) {
    this.#options = options;
    this.#docker = options.docker ?? new Docker();
    this.description = `image ${options.image}${options.platform ? ` (${options.platform})` : ''}`;
  }

  environment(): Record<string, string> {
    // AWS's base images put /var/lang/bin first on PATH (ENV in aws/aws-lambda-base-images' Dockerfiles).
    return withInherited(
      { ...taskVariables(TASK_ROOT, RUNTIME_DIR), PATH: `/var/lang/bin:${LAMBDA_PATH}` },
      this.#options.inheritEnvironment,
    );
  }

  async launch(environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#run(environment, output, undefined);
  }

  /**
   * The executables in the image's /opt/extensions, by name, as Lambda finds
   * them in a container image. Read once from an unstarted container.
   */
  extensions(): Promise<string[]> {
    this.#extensionPaths ??= this.#listExtensions();
    return this.#extensionPaths;
  }

  /**
   * An external extension runs in a container of its own from the same image
   * (entrypoint: the extension), on the host network, with the environment's
   * /tmp shared, so it sees what the function sees.
   */
  launchExtension(path: string, environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#run(environment, output, path);
  }

  async #listExtensions(): Promise<string[]> {
    const container = await this.#create({ Entrypoint: ['/opt/extensions'], Cmd: [] }, {}, 'probe');
    try {
      const archive = await container.getArchive({ path: '/opt/extensions' }).catch(() => undefined);
      if (!archive) return [];
      const names: string[] = [];
      const extract = tar.extract();
      extract.on('entry', (header, stream, next) => {
        // Entries are "extensions/<name>"; only executable files directly inside count.
        const parts = header.name.replace(/\/$/, '').split('/');
        if (parts.length === 2 && (header.type === 'file' || header.type === 'symlink') && (header.mode ?? 0) & 0o111) {
          names.push(`/opt/extensions/${parts[1]}`);
        }
        stream.on('end', next);
        stream.resume();
      });
      await pipeline(archive, extract);
      return names.sort();
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async #create(
    overrides: Partial<Docker.ContainerCreateOptions>,
    environment: Record<string, string>,
    role: string,
    tmp?: string,
  ): Promise<Docker.Container> {
    const memory = this.#options.memoryMb * 1024 * 1024;
    try {
      return await this.#docker.createContainer({
        Image: this.#options.image,
        Env: Object.entries(environment).map(([name, value]) => `${name}=${value}`),
        ...(this.#options.platform ? { platform: this.#options.platform } : {}),
        HostConfig: {
          NetworkMode: 'host',
          Memory: memory,
          MemorySwap: memory,
          AutoRemove: false,
          ...(tmp !== undefined && { Binds: [`${tmp}:/tmp`] }),
        },
        Labels: { 'org.lambda-kit.emulator': role },
        ...overrides,
      });
    } catch (error) {
      throw new LaunchError(
        `cannot create a container from ${this.#options.image}: ${(error as Error).message}. ` +
          'Build the image first (lambda-kit build --format image) and check that Docker is running (scripts/setup.sh).',
        { cause: error },
      );
    }
  }

  /** /tmp of one environment: shared by its runtime and extension containers, removed with the runtime. */
  async #tmpFor(environment: Record<string, string>): Promise<string> {
    const key = environment.AWS_LAMBDA_RUNTIME_API ?? 'default';
    let tmp = this.#tmpDirs.get(key);
    if (!tmp) {
      tmp = await mkdtemp(join(tmpdir(), 'lambda-kit-env-tmp-'));
      // Containers may run as any user.
      await chmod(tmp, 0o1777);
      this.#tmpDirs.set(key, tmp);
    }
    return tmp;
  }

  async #run(environment: Record<string, string>, output: (line: string) => void, extension: string | undefined): Promise<LaunchedRuntime> {
    const docker = this.#docker;
    const tmp = await this.#tmpFor(environment);
    const container = await this.#create(
      extension === undefined ? {} : { Entrypoint: [extension], Cmd: [] },
      environment,
      extension === undefined ? 'environment' : 'extension',
      tmp,
    );
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = lineSplitter(output);
    const err = lineSplitter(output);
    docker.modem.demuxStream(
      stream,
      { write: (chunk: Buffer) => out.push(chunk) } as never,
      {
        write: (chunk: Buffer) => err.push(chunk),
      } as never,
    );
    // 'next-exit': the default ('not-running') would return at once for a container not started yet.
    const waited = container.wait({ condition: 'next-exit' });
    await container.start();
    const cgroup = containerCgroup(container.id);
    // The container's cgroup goes with it: a crash's REPORT has the last sample.
    const limit = this.#options.memoryMb * 1024 * 1024;
    const meter = new PeakMeter(
      () => (cgroup === undefined ? undefined : higher(cgroupPeak(cgroup), residentPeakSum(cgroupProcesses(cgroup)))),
      { ceiling: limit },
    );
    const exited: Promise<ExitStatus> = waited.then(
      async (result: { StatusCode: number }) => {
        meter.stop();
        out.flush();
        err.flush();
        const info = await container.inspect().catch(() => undefined);
        // Killed for going over its memory: it reached the limit, whatever the last sample saw.
        if (info?.State?.OOMKilled) meter.raise(limit);
        // Docker reports 137 for SIGKILL (OOM or kill): say it as a signal, like a process.
        if (result.StatusCode === 137 || info?.State?.OOMKilled) return { code: null, signal: 'SIGKILL' };
        return { code: result.StatusCode, signal: null };
      },
      () => {
        meter.stop();
        return { code: null, signal: 'SIGKILL' };
      },
    );
    let done = false;
    void exited.then(() => (done = true));
    return {
      exited,
      signal: async (signal) => {
        if (done) return;
        meter.sample();
        await container.kill({ signal }).catch(() => undefined);
      },
      peakMemoryBytes: async () => meter.sample() ?? (cgroup === undefined && !done ? await dockerStatsPeak(container) : undefined),
      dispose: async () => {
        // The last reading, taken while the container still runs: a timed-out one's REPORT has it.
        if (!done) meter.sample();
        await container.remove({ force: true }).catch(() => undefined);
        await exited;
        if (extension === undefined) {
          const key = environment.AWS_LAMBDA_RUNTIME_API ?? 'default';
          this.#tmpDirs.delete(key);
          await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        }
      },
    };
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.#tmpDirs.values()].map((dir) => rm(dir, { recursive: true, force: true })));
    this.#tmpDirs.clear();
  }
}

/**
 * The container's cgroup directory on this machine: cgroup v2 with the
 * systemd or the cgroupfs driver, or v1's memory hierarchy. Undefined where
 * the engine runs elsewhere (a VM, a remote host).
 */
function containerCgroup(id: string): string | undefined {
  return [
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/docker/${id}`,
    `/sys/fs/cgroup/memory/docker/${id}`,
    `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`,
  ].find((dir) => existsSync(dir));
}

/**
 * Docker's own figure, for an engine whose cgroups this machine cannot see:
 * its stats API samples for a while before it answers, so it is asked only
 * then, and only on demand.
 */
async function dockerStatsPeak(container: Docker.Container): Promise<number | undefined> {
  const stats = (await container.stats({ stream: false }).catch(() => undefined)) as
    | { memory_stats?: { max_usage?: number; usage?: number } }
    | undefined;
  return stats?.memory_stats?.max_usage ?? stats?.memory_stats?.usage;
}
