/**
 * The target's own Node, ready to make `bootstrap`s whose SEA blob holds a V8
 * startup snapshot (--snapshot, see snapshot.ts). Its cache, under `cacheDir`:
 *
 *   snapshot/node-<arch>-<version>-<strip>        the stripped Node that makes
 *       snapshot bootstraps; strip = the strip tool
 *   snapshot/shapes-<arch>-<version>-<launcher>.json   the shapes of the
 *       built-ins a snapshot cannot hold, from that Node
 */
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCH_NAMES, ARCHES, type Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { extractNode, nodeTarball } from '../node/download.ts';
import { stripAll, stripTool } from '../node/elf.ts';
import { ensureDebs, prepareNodeAndLibs } from '../node/glibc.ts';
import { invalidOptions, type NodeRuntimeRoot } from '../node/node-runtime.ts';
import { injectBlob, seaConfig } from '../node/sea.ts';
import { crossArchError, runTarget, spawnTarget } from '../node/target-run.ts';
import { exists, sha256 } from '../node/tools.ts';
import { isExactVersion } from '../node/version.ts';
import { dropLoadedBuiltinCaches, type CodeCacheTrim } from './snapshot-code-cache.ts';

const SNAPSHOT_LAUNCHER = fileURLToPath(new URL('./launcher/snapshot-launcher.cjs', import.meta.url));
/**
 * The SEA main script of a --snapshot bootstrap (run at build time only): it
 * evaluates snapshot-launcher.cjs named lambda-kit:snapshot/launcher.cjs, as
 * its functions are in stack traces at run time (the build directory's path
 * would be there otherwise, different at every build).
 */
const SNAPSHOT_MAIN =
  "'use strict';\n" +
  "new Function('require', require('node:fs').readFileSync(process.env.LAMBDA_KIT_SNAPSHOT_LAUNCHER, 'utf8') + " +
  "'\\n//# sourceURL=lambda-kit:snapshot/launcher.cjs')(require);\n";

export interface SnapshotNodeOptions {
  arch: Arch;
  /** The exact version of the function's Node runtime: a snapshot only loads into the Node that made it. */
  nodeVersion: string;
  cacheDir: string;
  log?: (message: string) => void;
}

/** What dropLoadedBuiltinCaches left of a snapshot's code caches. */
export type CodeCacheTrimmed = Omit<CodeCacheTrim, 'blob'>;

/** One try at the SEA blob with a startup snapshot. */
export interface SnapshotAttempt {
  ok: boolean;
  /** Own property names of each module in the snapshot's table, by key (when ok). */
  exports?: Record<string, string[]>;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stderr: string;
}

/**
 * The target's own Node (stripped, with the glibc of lib/): the main script, launcher/snapshot-launcher.cjs, runs as the
 * snapshot builder while `node --experimental-sea-config` makes the blob
 * (sea-config `useSnapshot`), under qemu for the other arch. Such a bootstrap
 * belongs to one function: it is not cached.
 *
 * Why a SEA of its own and not the shared bootstrap with a blob file beside
 * it: Node 24's SEA takes no `--snapshot-blob` (given in sea-config's
 * execArgv it is ignored, the main script runs without the snapshot: tried),
 * so the snapshot has to be inside the SEA blob.
 */
export class SnapshotNode {
  readonly arch: Arch;
  readonly nodeVersion: string;
  private readonly work: string;
  private readonly nodePath: string;
  private readonly libDir: string;

  private constructor(arch: Arch, nodeVersion: string, work: string, nodePath: string, libDir: string) {
    this.arch = arch;
    this.nodeVersion = nodeVersion;
    this.work = work;
    this.nodePath = nodePath;
    this.libDir = libDir;
  }

  static async prepare(options: SnapshotNodeOptions): Promise<SnapshotNode> {
    const { arch, nodeVersion, cacheDir } = options;
    const log = options.log ?? (() => {});
    if (!ARCHES.includes(arch)) throw invalidOptions(`unknown arch '${String(arch)}': 'x86_64' or 'arm64'`, 'SnapshotNode');
    if (!isExactVersion(nodeVersion))
      throw invalidOptions(`nodeVersion '${nodeVersion}' is not an exact version like '24.21.0'`, 'SnapshotNode');
    const debs = await ensureDebs(arch, cacheDir, log);
    await mkdir(join(cacheDir, 'snapshot'), { recursive: true });
    const work = await mkdtemp(join(cacheDir, 'snapshot', `.build-${arch}-`));
    try {
      // The stripped Node (no SEA blob, no patchelf) is kept: extracting and stripping it is most of a snapshot build.
      const strip = await stripTool(arch);
      const stripped = join(cacheDir, 'snapshot', `node-${arch}-${nodeVersion}-${sha256(strip.version).slice(0, 12)}`);
      if (!(await exists(stripped))) {
        const fresh = await mkdtemp(join(cacheDir, 'snapshot', `.node-${arch}-`));
        try {
          await writeFile(join(fresh, 'node'), await extractNode(await nodeTarball(arch, nodeVersion, cacheDir, log)), { mode: 0o755 });
          await stripAll(arch, join(fresh, 'node'));
          await rename(join(fresh, 'node'), stripped);
        } finally {
          await rm(fresh, { recursive: true, force: true });
        }
      }
      const { nodePath, libDir } = await prepareNodeAndLibs({ arch, nodeVersion, cacheDir, strip: true, node: stripped, log }, work, debs);
      const launcher = await readFile(SNAPSHOT_LAUNCHER);
      await writeFile(join(work, 'snapshot-launcher.cjs'), launcher);
      await writeFile(join(work, 'snapshot-main.cjs'), SNAPSHOT_MAIN);
      // The shapes of the built-ins the snapshot cannot hold, from the same Node in another process: one file per Node and launcher.
      const shapes = join(cacheDir, 'snapshot', `shapes-${arch}-${nodeVersion}-${sha256(launcher).slice(0, 16)}.json`);
      if (!(await exists(shapes))) {
        const { stdout } = await runTarget(
          arch,
          libDir,
          [nodePath, '--no-warnings', 'snapshot-launcher.cjs', '--shapes'],
          work,
          'reading the shapes of built-ins',
        );
        JSON.parse(stdout);
        await writeFile(`${shapes}.tmp`, stdout);
        await rename(`${shapes}.tmp`, shapes);
      }
      await writeFile(join(work, 'shapes.json'), await readFile(shapes));
      return new SnapshotNode(arch, nodeVersion, work, nodePath, libDir);
    } catch (error) {
      await rm(work, { recursive: true, force: true });
      throw error;
    }
  }

  /** Makes sea.blob from a vendor bundle: the build script evaluates it and V8 serialises the heap. */
  async attempt(vendor: Buffer, timeoutMs: number): Promise<SnapshotAttempt> {
    await writeFile(join(this.work, 'vendor.cjs'), vendor);
    await rm(join(this.work, 'sea.blob'), { force: true });
    await rm(join(this.work, 'exports.json'), { force: true });
    await rm(join(this.work, 'builtins.json'), { force: true });
    await writeFile(join(this.work, 'sea-config.json'), seaConfig('snapshot-main.cjs', true));
    const result = await spawnTarget(this.arch, this.libDir, [this.nodePath, '--experimental-sea-config', 'sea-config.json'], this.work, {
      env: {
        LAMBDA_KIT_SNAPSHOT_LAUNCHER: join(this.work, 'snapshot-launcher.cjs'),
        LAMBDA_KIT_SNAPSHOT_VENDOR: join(this.work, 'vendor.cjs'),
        LAMBDA_KIT_SNAPSHOT_SHAPES: join(this.work, 'shapes.json'),
        LAMBDA_KIT_SNAPSHOT_EXPORTS: join(this.work, 'exports.json'),
        LAMBDA_KIT_SNAPSHOT_BUILTINS: join(this.work, 'builtins.json'),
      },
      timeoutMs,
    });
    if (result.code === null && result.signal === null && !result.timedOut) throw crossArchError(this.arch, 'making the snapshot', result);
    const ok = result.code === 0 && (await exists(join(this.work, 'sea.blob')));
    const exports = ok ? (JSON.parse(await readFile(join(this.work, 'exports.json'), 'utf8')) as Record<string, string[]>) : undefined;
    return { ok, exports, code: result.code, signal: result.signal, timedOut: result.timedOut, stderr: result.stderr };
  }

  /**
   * The bootstrap with the blob of the last successful attempt, less the code
   * caches of the built-ins its heap holds (snapshot-code-cache.ts); codeCache
   * says how many were kept and dropped, undefined if the blob was left whole.
   */
  async bootstrap(root: NodeRuntimeRoot): Promise<{ file: ArtifactFile; codeCache?: CodeCacheTrimmed }> {
    const blob = join(this.work, 'sea.blob');
    const loaded = new Set(JSON.parse(await readFile(join(this.work, 'builtins.json'), 'utf8')) as string[]);
    const trim = dropLoadedBuiltinCaches(await readFile(blob), this.nodeVersion, loaded);
    if (trim) await writeFile(blob, trim.blob);
    const bootstrap = join(this.work, 'bootstrap');
    await rm(bootstrap, { force: true });
    await writeFile(bootstrap, await readFile(this.nodePath), { mode: 0o755 });
    await injectBlob({
      arch: this.arch,
      nodeVersion: this.nodeVersion,
      interpreter: `${root}/lib/${ARCH_NAMES[this.arch].loader}`,
      libDir: this.libDir,
      work: this.work,
      bootstrap,
      blob,
    });
    return {
      file: { path: 'bootstrap', data: await readFile(bootstrap), mode: 0o755 },
      codeCache: trim && { kept: trim.kept, dropped: trim.dropped, droppedBytes: trim.droppedBytes },
    };
  }

  async dispose(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }
}
