import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { LaunchError } from '../errors.ts';
import { lineSplitter, type ExitStatus, type LaunchedRuntime, type Launcher } from './launcher.ts';

export interface ContainerLauncherOptions {
  image: string;
  /** linux/amd64 or linux/arm64; the image's own when omitted. */
  platform?: string;
  memoryMb: number;
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

  constructor(options: ContainerLauncherOptions) {
    this.#options = options;
    this.#docker = options.docker ?? new Docker();
    this.description = `image ${options.image}${options.platform ? ` (${options.platform})` : ''}`;
  }

  environment(): Record<string, string> {
    return {
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    };
  }

  async launch(environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    const docker = this.#docker;
    const memory = this.#options.memoryMb * 1024 * 1024;
    let container: Docker.Container;
    try {
      container = await docker.createContainer({
        Image: this.#options.image,
        Env: Object.entries(environment).map(([name, value]) => `${name}=${value}`),
        ...(this.#options.platform ? { platform: this.#options.platform } : {}),
        HostConfig: { NetworkMode: 'host', Memory: memory, MemorySwap: memory, AutoRemove: false },
        Labels: { 'org.lambda-kit.emulator': 'environment' },
      });
    } catch (error) {
      throw new LaunchError(
        `cannot create a container from ${this.#options.image}: ${(error as Error).message}. ` +
          'Build the image first (lambda-kit build --format image) and check that Docker is running (scripts/setup.sh).',
        { cause: error },
      );
    }
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = lineSplitter(output);
    const err = lineSplitter(output);
    docker.modem.demuxStream(stream, { write: (chunk: Buffer) => out.push(chunk) } as never, {
      write: (chunk: Buffer) => err.push(chunk),
    } as never);
    // 'next-exit': the default ('not-running') would return at once for a container not started yet.
    const waited = container.wait({ condition: 'next-exit' });
    await container.start();
    const exited: Promise<ExitStatus> = waited.then(
      async (result: { StatusCode: number }) => {
        out.flush();
        err.flush();
        const info = await container.inspect().catch(() => undefined);
        // Docker reports 137 for SIGKILL (OOM or kill): say it as a signal, like a process.
        if (result.StatusCode === 137 || info?.State?.OOMKilled) return { code: null, signal: 'SIGKILL' };
        return { code: result.StatusCode, signal: null };
      },
      () => ({ code: null, signal: 'SIGKILL' }),
    );
    let done = false;
    void exited.then(() => (done = true));
    return {
      exited,
      signal: async (signal) => {
        if (!done) await container.kill({ signal }).catch(() => undefined);
      },
      peakMemoryBytes: () => containerPeakMemory(container),
      dispose: async () => {
        await container.remove({ force: true }).catch(() => undefined);
        await exited;
      },
    };
  }

  async dispose(): Promise<void> {}
}

/**
 * The container's peak memory from its cgroup, read directly: a Docker stats
 * snapshot costs about a second per call. cgroup v2 (memory.peak) or v1
 * (memory.max_usage_in_bytes, cgroupfs driver); Docker's stats otherwise.
 */
async function containerPeakMemory(container: Docker.Container): Promise<number | undefined> {
  for (const file of [
    `/sys/fs/cgroup/system.slice/docker-${container.id}.scope/memory.peak`,
    `/sys/fs/cgroup/docker/${container.id}/memory.peak`,
    `/sys/fs/cgroup/memory/docker/${container.id}/memory.max_usage_in_bytes`,
  ]) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined && /^\d+/.test(text)) return Number.parseInt(text, 10);
  }
  const stats = (await container.stats({ stream: false }).catch(() => undefined)) as
    | { memory_stats?: { max_usage?: number; usage?: number } }
    | undefined;
  return stats?.memory_stats?.max_usage ?? stats?.memory_stats?.usage;
}
