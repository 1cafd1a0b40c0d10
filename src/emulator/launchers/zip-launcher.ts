import { access, constants, mkdtemp, rm } from 'node:fs/promises';
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
  readonly #zipPath: string;
  #taskRoot: string | undefined;
  #inner: ProcessLauncher | undefined;

  readonly #extensionsDir: string | undefined;

  constructor(zipPath: string, options: { extensionsDir?: string } = {}) {
    this.#zipPath = zipPath;
    this.#extensionsDir = options.extensionsDir;
    this.description = `bootstrap from ${zipPath}`;
  }

  /** Unpacks the zip; call before launch(). */
  async prepare(): Promise<void> {
    if (this.#inner) return;
    const taskRoot = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    try {
      await extract(this.#zipPath, { dir: taskRoot });
    } catch (error) {
      await rm(taskRoot, { recursive: true, force: true });
      throw new LaunchError(`cannot unpack ${this.#zipPath}: ${(error as Error).message}; pass a zip built by lambda-kit build`, {
        cause: error,
      });
    }
    const bootstrap = join(taskRoot, 'bootstrap');
    try {
      await access(bootstrap, constants.X_OK);
    } catch {
      await rm(taskRoot, { recursive: true, force: true });
      throw new LaunchError(
        `${this.#zipPath} has no executable bootstrap at its root: a custom runtime's zip must hold one (mode 0755)`,
      );
    }
    this.#taskRoot = taskRoot;
    this.#inner = new ProcessLauncher({
      command: [bootstrap],
      taskRoot,
      description: this.description,
      ...(this.#extensionsDir !== undefined && { extensionsDir: this.#extensionsDir }),
    });
  }

  environment(): Record<string, string> {
    return this.#ready().environment();
  }

  launch(environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#ready().launch(environment, output);
  }

  extensions(): Promise<string[]> {
    return this.#ready().extensions();
  }

  launchExtension(path: string, environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime> {
    return this.#ready().launchExtension(path, environment, output);
  }

  async dispose(): Promise<void> {
    if (this.#taskRoot) await rm(this.#taskRoot, { recursive: true, force: true });
    this.#taskRoot = undefined;
    this.#inner = undefined;
  }

  #ready(): ProcessLauncher {
    if (!this.#inner) throw new LaunchError(`${this.#zipPath} is not unpacked yet: call prepare() first`);
    return this.#inner;
  }
}
