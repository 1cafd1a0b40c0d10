/**
 * What the benchmark sections share: the section's shape, statistics, a
 * process's own CPU time and memory from /proc, the runtime processes the
 * sections drive, and the lambda-kit CLI as a user runs it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { bundleFunction } from '../src/build/bundle/bundle.ts';
import type { Arch } from '../src/platform/arch.ts';
import type { Artifact } from '../src/build/artifacts/formats.ts';
import type { LeanRuntimeApi } from './lean-runtime-api.ts';

export interface BenchTarget {
  what: string;
  measured: string;
  target: string;
  /** measured / target, where the two are comparable numbers. */
  ratio?: number;
  met: boolean;
}

export interface BenchSection {
  title: string;
  intro?: string;
  /** Header row first. */
  table: string[][];
  targets: BenchTarget[];
  notes?: string[];
}

export interface SectionOptions {
  /** Tiny counts and no Docker: the harness's smoke test. */
  smoke: boolean;
}

export type Section = (options: SectionOptions) => Promise<BenchSection>;

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export const HOST_ARCH: Arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';

// --- statistics ----------------------------------------------------------------------

function sorted(values: ArrayLike<number>): number[] {
  return Array.from(values).sort((a, b) => a - b);
}

/** The nearest-rank percentile (p in 0..100) of `values`. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const ordered = sorted(values);
  if (ordered.length === 0) return Number.NaN;
  return ordered[Math.min(ordered.length - 1, Math.max(0, Math.ceil((p / 100) * ordered.length) - 1))]!;
}

export function median(values: ArrayLike<number>): number {
  const ordered = sorted(values);
  if (ordered.length === 0) return Number.NaN;
  const middle = ordered.length >> 1;
  return ordered.length % 2 === 1 ? ordered[middle]! : (ordered[middle - 1]! + ordered[middle]!) / 2;
}

// --- /proc ---------------------------------------------------------------------------

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system) the process has used, in µs (resolution: one clock tick, 10 ms). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / ticksPerSecond();
}

/** The process's resident set (VmRSS), in KB. */
export function processRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

/** The CPU model and core count, for the report's header. */
export function machineFacts(): { cpu: string; cores: number } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: cpuinfo.match(/^processor\s*:/gm)?.length ?? 0,
  };
}

// --- CPU affinity ----------------------------------------------------------------------------

/**
 * The CPU the warm loop's server and runtime share, or undefined to let the
 * scheduler place them (BENCH_PIN=off). On this VM a wakeup across vCPUs
 * costs 50-80 µs of CPU, and unpinned runs flip between that and the
 * same-CPU case from one run to the next: pinned, the figures are the
 * processes' own work and repeat.
 */
export function pinnedCpu(): number | undefined {
  if (process.env.BENCH_PIN === 'off') return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return availableParallelism() - 1;
}

/** Pins every thread of this process to `cpu`; the returned function puts the old affinity back. */
export function pinSelf(cpu: number): () => void {
  const mask = /affinity mask: ([0-9a-f]+)/.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }))?.[1];
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  return () => {
    if (mask) execFileSync('taskset', ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' });
  };
}

/** `command`, run on `cpu` when one is given. */
export function onCpu(cpu: number | undefined, command: string[]): string[] {
  return cpu === undefined ? command : ['taskset', '-c', String(cpu), ...command];
}

// --- runtime processes -----------------------------------------------------------------

/** The trivial handler every runtime runs: a plain .mjs module in its own task root. */
export const trivialTaskRoot = fileURLToPath(new URL('./fixtures/trivial/', import.meta.url));

/** aws-lambda-ric 4.x, run by its bin with _HANDLER=index.handler (test/support/aws-clients.ts says how). */
export { ricEntry, requireRic } from '../test/support/aws-clients.ts';

export const rawLoopEntry = fileURLToPath(new URL('./raw-runtime-loop.mjs', import.meta.url));

/**
 * The trivial handler bundled with the runtime loop by the build kit, as a
 * function ships it: `<dir>/index.mjs` (+ map). Run it with `node`, as the
 * bootstrap does: it maps its own stack traces.
 */
export async function bundleTrivialFunction(dir: string): Promise<string> {
  const bundle = await bundleFunction({
    name: 'bench',
    entry: join(trivialTaskRoot, 'index.mjs'),
    exportName: 'handler',
    root: repoRoot,
    arch: HOST_ARCH,
  });
  await mkdir(dir, { recursive: true });
  for (const file of bundle.files) await writeFile(join(dir, file.path), file.data);
  return join(dir, 'index.mjs');
}

/** The variables Lambda sets for a custom runtime (as the emulator sets them). */
export function lambdaEnvironment(authority: string, taskRoot: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AWS_LAMBDA_RUNTIME_API: authority,
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/bench',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]bench',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: 'index.handler',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...extra,
  };
}

export interface RuntimeProcess {
  child: ChildProcess;
  pid: number;
  /** What it wrote on stderr (for messages when it fails). */
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts a runtime process with stdout ignored and stderr kept; it must not exit by itself. */
export function spawnRuntime(command: string[], env: NodeJS.ProcessEnv, cwd: string): RuntimeProcess {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => {
    if (stderr.length < 10_000) stderr += data.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A runtime process driven by the lean Runtime API (in hold mode): started,
 * served `warmup` invocations, and idle on its next /next.
 */
export async function startRuntimeOn(
  api: LeanRuntimeApi,
  name: string,
  command: string[],
  taskRoot: string,
  warmup: number,
): Promise<RuntimeProcess> {
  const runtime = spawnRuntime(command, lambdaEnvironment(api.authority, taskRoot), taskRoot);
  try {
    if (warmup > 0) {
      await unlessExited(runtime, name, api.serve(warmup));
      await unlessExited(
        runtime,
        name,
        until(() => api.parkedCount() === 1, `${name} to ask for its next invocation`),
      );
    }
    return runtime;
  } catch (error) {
    await stopRuntimeOn(api, runtime);
    throw error;
  }
}

/** Stops a runtime started by startRuntimeOn; the server sees its socket close a moment later, and no invocation may go to it. */
export async function stopRuntimeOn(api: LeanRuntimeApi, runtime: RuntimeProcess): Promise<void> {
  await runtime.stop();
  await until(() => api.parkedCount() === 0, 'the stopped runtime to disconnect');
}

/** Rejects when the process exits before `work` settles, saying what it printed. */
export function unlessExited<T>(runtime: RuntimeProcess, what: string, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      runtime.child.once('exit', (code, signal) =>
        reject(new Error(`${what} exited (${signal ?? code}) before it was done: ${runtime.stderr().trim() || 'no output'}`)),
      ),
    ),
  ]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every few ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

// --- Docker -------------------------------------------------------------------------------

export const docker = new Docker();

/** Why Docker parts are skipped, or undefined when they run. */
export async function dockerUnavailable(options: SectionOptions): Promise<string | undefined> {
  if (options.smoke) return 'smoke run: Docker parts skipped';
  try {
    await docker.ping();
    return undefined;
  } catch (error) {
    return `no Docker engine answers (${(error as Error).message}): Docker parts skipped`;
  }
}

/** The local stand-in base image scripts/setup.sh builds, per arch. */
export function standInBase(arch: Arch): string {
  return `lambda-kit/base:al2023-local-${arch === 'x86_64' ? 'amd64' : 'arm64'}`;
}

export async function imageExists(tag: string): Promise<boolean> {
  return docker
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

// --- the CLI --------------------------------------------------------------------------------

export const cliEntry = join(repoRoot, 'src/cli/main.ts');

let runCache: string | undefined;

/**
 * The kit's cache (LAMBDA_KIT_CACHE_DIR) for the builds of this run: a fresh
 * one, made on first use and removed at exit, so that the first build is a
 * cold one; in a smoke run the tests' own `.cache/kit`, warm once any kit
 * test has run.
 */
export function benchKitCache(options: SectionOptions): string {
  if (options.smoke) return join(repoRoot, '.cache/kit');
  if (runCache === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'lambda-kit-bench-cache-'));
    runCache = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return runCache;
}

export interface CliBuild {
  wallMs: number;
  artifacts: Artifact[];
}

/**
 * `lambda-kit build <args> --json`, as `npm run build` runs it here (the CLI
 * from its sources, on this Node), timed from spawn to exit.
 */
export function runBuild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliBuild> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cliEntry, 'build', ...args, '--json'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString('utf8')));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`lambda-kit build ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      resolve({ wallMs, artifacts: (JSON.parse(stdout) as { artifacts: Artifact[] }).artifacts });
    });
  });
}

// --- formatting ---------------------------------------------------------------------------

/** A number with a fixed count of decimals and thousands separators. */
export function num(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
