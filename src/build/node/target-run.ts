/**
 * Running the target's own programs (its Node, the bootstrap being built) on
 * this machine: through the Debian loader in lib/, and under qemu (binfmt_misc)
 * for the other architecture.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ARCH_NAMES, HOST_ARCH, type Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';

export interface TargetRun {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when it did not exit 0. */
  error?: Error;
}

/** Runs a target-arch program through the Debian loader in libDir (under qemu, through binfmt, for the other arch). */
export function spawnTarget(
  arch: Arch,
  libDir: string,
  args: string[],
  cwd: string,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TargetRun> {
  const loader = join(libDir, ARCH_NAMES[arch].loader);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env };
  return new Promise((resolve) => {
    const started = Date.now();
    execFile(
      loader,
      ['--library-path', libDir, ...args],
      { cwd, env, maxBuffer: 16 << 20, timeout: options.timeoutMs ?? 0, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const failed = error as (Error & { code?: number | string | null; signal?: string | null; killed?: boolean }) | null;
        const code = failed ? (typeof failed.code === 'number' ? failed.code : null) : 0;
        const signal = failed?.signal ?? null;
        const timedOut = Boolean(failed?.killed && options.timeoutMs && Date.now() - started >= options.timeoutMs);
        resolve({ code, signal, stdout, stderr, timedOut, ...(failed ? { error: failed } : {}) });
      },
    );
  });
}

export function crossArchError(
  arch: Arch,
  what: string,
  result: { code: number | null; signal?: string | null; stderr: string; error?: Error },
  spawnFailed = true,
): KitError {
  const crossArch = arch !== HOST_ARCH;
  return new KitError(
    'LK_KIT_SEA_FAILED',
    `${what} failed: running the ${arch} Node ${crossArch ? `on this ${HOST_ARCH ?? process.arch} machine ` : ''}gave ` +
      `${spawnFailed && result.error ? result.error.message : `exit ${result.code ?? result.signal}: ${result.stderr.trim()}`}` +
      (crossArch
        ? `. ${arch} programs run here through qemu: install it (Debian/Ubuntu: sudo apt-get install qemu-user-static binfmt-support) and check that /proc/sys/fs/binfmt_misc/${ARCH_NAMES[arch].qemu} is enabled`
        : ''),
    spawnFailed && result.error ? { cause: result.error } : undefined,
  );
}

/** spawnTarget, failing with LK_KIT_SEA_FAILED when it cannot run (or exits non-zero, unless allowFailure). */
export async function runTarget(
  arch: Arch,
  libDir: string,
  args: string[],
  cwd: string,
  what: string,
  allowFailure = false,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await spawnTarget(arch, libDir, args, cwd);
  // A run that did not end with an exit code (not started, or killed) always fails.
  const spawnFailed = result.error !== undefined && result.code === null;
  if (spawnFailed || (!allowFailure && result.code !== 0)) throw crossArchError(arch, what, result, spawnFailed);
  return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
}
