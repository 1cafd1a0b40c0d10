/**
 * The host's tools as the Node runtime's build uses them (npm, apt-get, dpkg,
 * strip, patchelf): running one, finding one on PATH, installing a missing one
 * with apt-get when running as root. Failures are KitErrors that say what ran
 * and what it printed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { KitError, type BuildErrorCode } from '../errors.ts';

/** Runs a tool; failures become KitErrors with `code`, saying what ran and what it printed. */
export function tool(
  file: string,
  args: string[],
  how: { code: BuildErrorCode; what: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: how.cwd, env: how.env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr });
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new KitError(
          missing ? 'LK_KIT_TOOL_MISSING' : how.code,
          missing
            ? `${how.what}: ${file} is not installed (or not on PATH)`
            : `${how.what} failed: ${brief(stderr) || brief(stdout) || error.message}`,
          { cause: error },
        ),
      );
    });
  });
}

/** The first lines of a tool's output that say something (not npm's warnings). */
function brief(output: string): string {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^npm warn/i.test(line))
    .slice(0, 4)
    .join(' / ');
}

/** The first of `names` on PATH; else apt-get installs `aptPackage` (as root), or a KitError says to. */
export async function requireTool(names: string[], aptPackage: string): Promise<string> {
  for (const name of names) {
    const path = await which(name);
    if (path) return path;
  }
  if (isRoot() && (await which('apt-get'))) {
    const install = () =>
      tool('apt-get', ['install', '-y', '-qq', aptPackage], {
        code: 'LK_KIT_TOOL_MISSING',
        what: `apt-get install ${aptPackage}`,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    await install().catch(async () => {
      await tool('apt-get', ['update', '-qq'], { code: 'LK_KIT_TOOL_MISSING', what: 'apt-get update' });
      await install();
    });
    for (const name of names) {
      const path = await which(name);
      if (path) return path;
    }
  }
  throw new KitError(
    'LK_KIT_TOOL_MISSING',
    `the build needs ${names.join(' or ')}, which is not on PATH: install it (Debian/Ubuntu: sudo apt-get install ${aptPackage})`,
  );
}

export async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
