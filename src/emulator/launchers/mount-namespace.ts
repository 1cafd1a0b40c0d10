import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TASK_ROOT } from './task-environment.ts';

/**
 * Running a runtime where Lambda puts it: in a mount namespace of its own
 * (util-linux `unshare`), with the unpacked task at /var/task (read-only),
 * an empty /var/runtime, the unpacked layers as /opt, and the extensions
 * folder at /opt/extensions.
 *
 * The host's /var (and /opt, without layers) stay as they are around
 * those: a tmpfs covers each one inside the namespace (so no directory is
 * made on the host, even as root), and every directory of the host's is
 * bound back onto it, before Lambda's own are mounted. All of it is one `mount -a` of an fstab written
 * beforehand, so the cost at start is one unshare, one sh and one mount.
 * Without root, `--map-root-user` makes a user namespace too (unprivileged
 * user namespaces must be on), and the runtime runs as root inside it.
 */

export interface NamespaceTools {
  unshare: string;
  mount: string;
  /** Whether a user namespace is needed (not root). */
  userNamespace: boolean;
}

export type NamespaceSupport = { tools: NamespaceTools } | { reason: string };

let support: Promise<NamespaceSupport> | undefined;

/** Whether runtimes can run in mount namespaces here: found out once per process, by running one. */
export function namespaceSupport(): Promise<NamespaceSupport> {
  support ??= probe();
  return support;
}

async function probe(): Promise<NamespaceSupport> {
  if (process.platform !== 'linux') return { reason: `mount namespaces are Linux's, and this is ${process.platform}` };
  const unshare = await findProgram('unshare');
  const mount = await findProgram('mount');
  if (!unshare || !mount) return { reason: `util-linux's ${unshare ? 'mount' : 'unshare'} is not on PATH` };
  const tools: NamespaceTools = { unshare, mount, userNamespace: process.getuid?.() !== 0 };
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-probe-'));
  try {
    const taskRoot = join(dir, 'task');
    await mkdir(taskRoot);
    await writeFile(join(taskRoot, 'probe'), '');
    const namespace = await MountNamespace.create(tools, { taskRoot }, join(dir, 'sandbox'));
    const [program, ...args] = namespace.wrap(['/bin/sh', '-c', `test -f ${TASK_ROOT}/probe && test "$(pwd)" = ${TASK_ROOT}`]);
    const failure = await new Promise<string | undefined>((resolve) => {
      execFile(program!, args, { timeout: 10_000 }, (error, _stdout, stderr) =>
        resolve(error ? stderr.trim().split('\n').at(-1) || error.message : undefined),
      );
    });
    return failure === undefined ? { tools } : { reason: `unshare failed: ${failure}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An executable of that name in a directory of the emulator's PATH, or undefined. */
async function findProgram(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
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

/** Host directories to mount where Lambda has them. */
export interface TaskMounts {
  /** Mounted read-only at /var/task. */
  taskRoot: string;
  /** The function's layers, unpacked: mounted read-only as /opt, in place of the host's. */
  opt?: string;
  /** Mounted read-only at /opt/extensions, when given. */
  extensionsDir?: string;
}

/** One task's mount namespace set-up: its fstab, written once, and the command that runs a program inside. */
export class MountNamespace {
  readonly #tools: NamespaceTools;
  readonly #fstab: string;
  /** Whether /opt/extensions is the extensions folder inside. */
  readonly extensionsMounted: boolean;

  private constructor(tools: NamespaceTools, fstab: string, extensionsMounted: boolean) {
    this.#tools = tools;
    this.#fstab = fstab;
    this.extensionsMounted = extensionsMounted;
  }

  /** Writes the fstab (and the empty folders it needs) into `workDir`, which the caller removes. */
  static async create(tools: NamespaceTools, mounts: TaskMounts, workDir: string): Promise<MountNamespace> {
    await mkdir(join(workDir, 'runtime'), { recursive: true });
    const lines = await cover('/var', join(workDir, 'var'), ['task', 'runtime']);
    lines.push(
      entry(mounts.taskRoot, `${TASK_ROOT}`, 'bind,ro,X-mount.mkdir'),
      entry(join(workDir, 'runtime'), '/var/runtime', 'bind,ro,X-mount.mkdir'),
    );
    let extensionsMounted = false;
    // A host without /opt gets none: making one would be a change to the host.
    if (await isDirectory('/opt')) {
      if (mounts.opt !== undefined) {
        // Lambda's /opt is the layers and nothing else.
        lines.push(entry(mounts.opt, '/opt', 'bind,ro'));
        if (mounts.extensionsDir !== undefined) {
          // The mount point, made in the layers' folder (which is ours): /opt is read-only inside.
          await mkdir(join(mounts.opt, 'extensions'), { recursive: true });
          lines.push(entry(mounts.extensionsDir, '/opt/extensions', 'bind,ro'));
        }
        extensionsMounted = true;
      } else if (mounts.extensionsDir !== undefined) {
        lines.push(...(await cover('/opt', join(workDir, 'opt'), ['extensions'])));
        lines.push(entry(mounts.extensionsDir, '/opt/extensions', 'bind,ro,X-mount.mkdir'));
        extensionsMounted = true;
      }
    }
    const fstab = join(workDir, 'fstab');
    await writeFile(fstab, `${lines.join('\n')}\n`);
    return new MountNamespace(tools, fstab, extensionsMounted);
  }

  /** The command that runs `command` in a fresh namespace of this set-up, in /var/task. */
  wrap(command: string[]): string[] {
    const { unshare, mount, userNamespace } = this.#tools;
    return [
      unshare,
      '--mount',
      '--propagation',
      'private',
      ...(userNamespace ? ['--map-root-user'] : []),
      '/bin/sh',
      '-c',
      `"$1" -a -T "$2" && cd ${TASK_ROOT} && unset OLDPWD && shift 2 && exec "$@"`,
      'lambda-kit-sandbox',
      mount,
      this.#fstab,
      ...command,
    ];
  }
}

/**
 * fstab lines that put a tmpfs over `dir` with each of its directories bound
 * back (through `stash`, a bind of the original made first), but those in
 * `except`, which the caller mounts.
 */
async function cover(dir: string, stash: string, except: string[]): Promise<string[]> {
  await mkdir(stash, { recursive: true });
  const lines = [entry(dir, stash, 'rbind'), entry('tmpfs', dir, 'mode=0755', 'tmpfs')];
  for (const name of (await readdir(dir)).sort()) {
    // Files cannot be bound onto the directories X-mount.mkdir makes; a host's /var and /opt hardly hold any.
    if (except.includes(name) || !(await isDirectory(join(dir, name)))) continue;
    lines.push(entry(join(stash, name), join(dir, name), 'rbind,X-mount.mkdir'));
  }
  return lines;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** One fstab line; fstab(5) spells blanks and backslashes in paths as octal escapes. */
function entry(source: string, target: string, options: string, type = 'none'): string {
  const octal = (field: string) => field.replace(/[\\ \t\n]/g, (character) => `\\${character.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return `${octal(source)} ${octal(target)} ${type} ${options} 0 0`;
}
