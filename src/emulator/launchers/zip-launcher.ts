import { access, constants, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import extract from 'extract-zip';
import { LaunchError } from '../errors.ts';
import type { LaunchedRuntime, Launcher } from './launcher.ts';
import { MountNamespace, namespaceSupport } from './mount-namespace.ts';
import { ProcessLauncher } from './process-launcher.ts';
import { RUNTIME_DIR, TASK_ROOT, taskVariables, withInherited, type InheritEnvironment } from './task-environment.ts';

export interface ZipLauncherOptions {
  /** The directory that stands for /opt/extensions (over the layers' extensions/, when there are layers). */
  extensionsDir?: string;
  /** Layer zips, unpacked in order into the folder that stands for /opt: a later layer's file wins, as in Lambda. */
  layers?: string[];
  /** What the function takes from the emulator's environment (none by default). */
  inheritEnvironment?: InheritEnvironment;
}

let fallbackNoticed = false;

/**
 * Runs a built deployment package as Lambda runs a custom runtime: the zip
 * (and its layers) is unpacked once, and each environment starts its
 * `bootstrap` (the package's, else the layers' /opt/bootstrap) in a mount
 * namespace of its own with the package at /var/task and the layers at /opt
 * (mount-namespace.ts), in /var/task, with the variables Lambda sets
 * (task-environment.ts) and nothing of the emulator's environment unless
 * asked. Where namespaces cannot be made, it runs in the unpacked folder
 * instead, which LAMBDA_TASK_ROOT then names, after a one-line notice.
 */
export class ZipLauncher implements Launcher {
  readonly description: string;
  readonly #dir: string;
  readonly #inner: ProcessLauncher;

  private constructor(description: string, dir: string, inner: ProcessLauncher) {
    this.description = description;
    this.#dir = dir;
    this.#inner = inner;
  }

  /** Unpacks the zip into a folder of its own and checks its bootstrap. */
  static async unpack(zipPath: string, options: ZipLauncherOptions = {}): Promise<ZipLauncher> {
    const description = `bootstrap from ${zipPath}`;
    const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    try {
      const taskRoot = join(dir, 'task');
      await unpackInto(zipPath, taskRoot);
      const layers = options.layers ?? [];
      const opt = layers.length > 0 ? join(dir, 'opt') : undefined;
      for (const layer of layers) await unpackInto(layer, opt!);
      // Where AWS's emulator looks, in its order (/var/runtime is empty here).
      const bootstrap = await firstExecutable([join(taskRoot, 'bootstrap'), ...(opt ? [join(opt, 'bootstrap')] : [])]);
      if (bootstrap === undefined) {
        throw new LaunchError(
          `${zipPath} has no executable bootstrap at its root${opt ? ', nor has any of its layers' : ''}: a custom runtime's zip must hold one (mode 0755), or a layer of it`,
        );
      }
      const fromLayer = opt !== undefined && bootstrap === join(opt, 'bootstrap');
      const extensionsDir = options.extensionsDir ?? (opt ? join(opt, 'extensions') : undefined);
      const extensions = extensionsDir === undefined ? {} : { extensionsDir };
      const support = await namespaceSupport();
      if ('tools' in support) {
        const mounts = {
          taskRoot,
          ...(opt && { opt }),
          ...(options.extensionsDir !== undefined && { extensionsDir: options.extensionsDir }),
        };
        const namespace = await MountNamespace.create(support.tools, mounts, join(dir, 'sandbox'));
        const inner = new ProcessLauncher({
          command: [fromLayer ? '/opt/bootstrap' : `${TASK_ROOT}/bootstrap`],
          taskRoot,
          variables: withInherited(taskVariables(TASK_ROOT, RUNTIME_DIR), options.inheritEnvironment),
          description,
          namespace,
          ...extensions,
        });
        return new ZipLauncher(description, dir, inner);
      }
      if (!fallbackNoticed) {
        fallbackNoticed = true;
        process.stderr.write(
          `lambda-kit emulator: zips run in their unpacked folder, not at ${TASK_ROOT}, as no mount namespace can be made here (${support.reason})\n`,
        );
      }
      const inner = new ProcessLauncher({
        command: await bootstrapCommand(bootstrap),
        taskRoot,
        variables: withInherited(taskVariables(taskRoot, RUNTIME_DIR), options.inheritEnvironment),
        description,
        ...extensions,
      });
      return new ZipLauncher(description, dir, inner);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  environment(): Record<string, string> {
    return this.#inner.environment();
  }

  launch(environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#inner.launch(environment, output);
  }

  extensions(): Promise<string[]> {
    return this.#inner.extensions();
  }

  launchExtension(path: string, environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#inner.launchExtension(path, environment, output);
  }

  async dispose(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}

async function unpackInto(zipPath: string, dir: string): Promise<void> {
  try {
    await extract(zipPath, { dir });
  } catch (error) {
    throw new LaunchError(`cannot unpack ${zipPath}: ${(error as Error).message}; pass a zip built by lambda-kit build`, { cause: error });
  }
}

async function firstExecutable(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
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

/**
 * A lambda-kit bootstrap names its ELF interpreter by where Lambda unpacks it
 * (/var/task/lib/ld-linux-*, or /opt/lib/ for a runtime layer). Outside a
 * namespace that path does not exist, so the loader shipped beside it is run
 * with the bootstrap instead.
 */
async function bootstrapCommand(bootstrap: string): Promise<string[]> {
  const lib = join(dirname(bootstrap), 'lib');
  const loader = (await readdir(lib).catch(() => [] as string[])).find((name) => /^ld-linux-.*\.so\.\d$/.test(name));
  if (!loader) return [bootstrap];
  const interpreter = await elfInterpreter(bootstrap);
  if (!interpreter?.startsWith('/var/task/lib/') && !interpreter?.startsWith('/opt/lib/')) return [bootstrap];
  const present = await access(interpreter, constants.X_OK).then(
    () => true,
    () => false,
  );
  return present ? [bootstrap] : [join(lib, loader), '--library-path', lib, bootstrap];
}

/** PT_INTERP of a 64-bit little-endian ELF file (x86_64, aarch64), or undefined. */
async function elfInterpreter(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.toString('latin1', 0, 4) !== '\x7fELF' || header[4] !== 2 || header[5] !== 1) return undefined;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let index = 0; index < phnum; index++) {
      const entry = index * phentsize;
      if (table.readUInt32LE(entry) !== 3) continue;
      const offset = Number(table.readBigUInt64LE(entry + 8));
      const size = Number(table.readBigUInt64LE(entry + 32));
      const path = Buffer.alloc(size);
      await handle.read(path, 0, size, offset);
      return path.toString('latin1').replace(/\0+$/, '');
    }
    return undefined;
  } finally {
    await handle.close();
  }
}
