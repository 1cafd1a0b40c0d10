import { access, constants, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import extract from 'extract-zip';
import { LaunchError } from '../errors.ts';
import type { LaunchedRuntime, Launcher } from './launcher.ts';
import { ProcessLauncher } from './process-launcher.ts';

/**
 * Runs a built deployment package: the zip is unpacked once into a temporary
 * task root and its `bootstrap` is started for each environment, as Lambda
 * does for custom runtimes.
 */
export class ZipLauncher implements Launcher {
  readonly description: string;
  readonly #taskRoot: string;
  readonly #inner: ProcessLauncher;

  private constructor(description: string, taskRoot: string, inner: ProcessLauncher) {
    this.description = description;
    this.#taskRoot = taskRoot;
    this.#inner = inner;
  }

  /** Unpacks the zip into a task root of its own and checks its bootstrap. */
  static async unpack(zipPath: string, options: { extensionsDir?: string } = {}): Promise<ZipLauncher> {
    const description = `bootstrap from ${zipPath}`;
    const taskRoot = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    try {
      await extract(zipPath, { dir: taskRoot });
    } catch (error) {
      await rm(taskRoot, { recursive: true, force: true });
      throw new LaunchError(`cannot unpack ${zipPath}: ${(error as Error).message}; pass a zip built by lambda-kit build`, {
        cause: error,
      });
    }
    const bootstrap = join(taskRoot, 'bootstrap');
    try {
      await access(bootstrap, constants.X_OK);
    } catch {
      await rm(taskRoot, { recursive: true, force: true });
      throw new LaunchError(`${zipPath} has no executable bootstrap at its root: a custom runtime's zip must hold one (mode 0755)`);
    }
    const inner = new ProcessLauncher({
      command: await bootstrapCommand(taskRoot, bootstrap),
      taskRoot,
      description,
      ...(options.extensionsDir !== undefined && { extensionsDir: options.extensionsDir }),
    });
    return new ZipLauncher(description, taskRoot, inner);
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
    await rm(this.#taskRoot, { recursive: true, force: true });
  }
}

/**
 * A lambda-kit bootstrap names its ELF interpreter by where Lambda unpacks it
 * (/var/task/lib/ld-linux-*). Unpacked anywhere else, that path does not
 * exist, so the loader shipped beside it is run with the bootstrap instead.
 */
async function bootstrapCommand(taskRoot: string, bootstrap: string): Promise<string[]> {
  const lib = join(taskRoot, 'lib');
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
