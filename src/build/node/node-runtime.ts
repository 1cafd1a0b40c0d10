/**
 * The Node that goes inside a function artifact: `bootstrap` (Node's official
 * binary for the target, stripped, made a single executable application whose
 * main script is launcher/bootstrap-launcher.cjs) and `lib/` (the glibc loader,
 * glibc, libstdc++ and libgcc_s from Debian's packages for the target), so the
 * artifact runs on whatever glibc the machine has (AL2: 2.26, AL1: 2.17, none
 * at all in a FROM scratch image; Node 24 needs 2.28).
 *
 *   bootstrap: ELF interpreter <root>/lib/ld-linux-*, DT_RPATH $ORIGIN/lib
 *              (RPATH, not RUNPATH: it wins over LD_LIBRARY_PATH, which AWS's
 *              base images point at their own, older glibc)
 *   lib/       the NEEDED closure of node, as regular files
 *
 * Steps: strip -> SEA blob (made by the target's own Node, under qemu for the
 * other architecture) -> postject -> patchelf -> a check run (sea.ts). Same
 * inputs give byte-identical files.
 *
 * Cache layout under `cacheDir` (the npm/ and debs/ parts are the layout of
 * .cache/docker-base, which docker/base/build.sh and docker/builder/ share):
 *   npm/node-linux-<cpu>-<version>.tgz            npm pack of the exact version
 *   debs/<amd64|arm64>/<package>_<version>_<arch>.deb   apt-get download
 *   node-runtime/<arch>-<version>-<key>/          a finished build: bootstrap,
 *       lib/*, manifest.json (written last); key = recipe, root, launcher, debs
 *   node-glibc/<arch>-<version>-<key>/            a finished plain Node (bin/node,
 *       lib/*, manifest.json) for builder images and extension layers
 *       (node-with-glibc.ts); key = recipe, lib path, extra libs, strip, debs
 *   snapshot/                                     --snapshot's own (snapshot/snapshot-node.ts)
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCH_NAMES, ARCHES, type Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { KitError } from '../errors.ts';
import type { NodeMajor } from '../project/choices.ts';
import { readBuild, writeBuild } from './build-cache.ts';
import { patchelfVersion, stripTool } from './elf.ts';
import { ensureDebs, prepareNodeAndLibs } from './glibc.ts';
import { injectBlob, seaConfig } from './sea.ts';
import { runTarget } from './target-run.ts';
import { baseName, sha256 } from './tools.ts';
import { isExactVersion, resolveNodeVersion } from './version.ts';

/** Where the Node runtime's files go: beside the code (zip, image), or in a layer (/opt). */
export type NodeRuntimeRoot = '/var/task' | '/opt';

export interface BuildNodeRuntimeOptions {
  arch: Arch;
  /** Major version of Node; the newest release of it published for `arch` is used. Default 24. */
  nodeMajor?: NodeMajor;
  /** An exact version (e.g. '24.21.0') instead of the newest of `nodeMajor`. */
  nodeVersion?: string;
  root: NodeRuntimeRoot;
  /** Downloads and finished builds are kept here (see the layout above). */
  cacheDir: string;
  /** Progress messages (downloads, slow steps). */
  log?: (message: string) => void;
}

/** `bootstrap` (Node as a single executable that imports $LAMBDA_TASK_ROOT/index.mjs) and `lib/*`, or a plain Node's files. */
export interface NodeRuntime {
  /** Relative to the root: 'bootstrap', 'lib/ld-linux-aarch64.so.1', ... */
  files: ArtifactFile[];
  nodeVersion: string;
}

/** What the build calls for a function's Node runtime: buildNodeRuntime, or a stand-in (tests). */
export type NodeRuntimeBuilder = (options: BuildNodeRuntimeOptions) => Promise<NodeRuntime>;

/** Bumped whenever what a build produces changes for the same inputs. */
const RECIPE = 'node-runtime-1';
const LAUNCHER = fileURLToPath(new URL('./launcher/bootstrap-launcher.cjs', import.meta.url));

/** Builds (or takes from the cache) the `bootstrap` and `lib/` of a function artifact. */
export async function buildNodeRuntime(options: BuildNodeRuntimeOptions): Promise<NodeRuntime> {
  const { arch, root, cacheDir } = options;
  const log = options.log ?? (() => {});
  if (!ARCHES.includes(arch)) throw invalidOptions(`unknown arch '${String(arch)}': 'x86_64' or 'arm64'`);
  if (root !== '/var/task' && root !== '/opt') throw invalidOptions(`unknown root '${String(root)}': '/var/task' or '/opt'`);
  const nodeMajor = options.nodeMajor ?? 24;
  if (nodeMajor !== 24 && nodeMajor !== 22) throw invalidOptions(`unsupported nodeMajor ${String(nodeMajor)}: 24 or 22`);
  if (options.nodeVersion !== undefined && !isExactVersion(options.nodeVersion)) {
    throw invalidOptions(`nodeVersion '${options.nodeVersion}' is not an exact version like '24.21.0'`);
  }
  const nodeVersion = options.nodeVersion ?? (await resolveNodeVersion(arch, nodeMajor, cacheDir, log));

  const launcher = await readFile(LAUNCHER);
  const debs = await ensureDebs(arch, cacheDir, log);
  const key = sha256(JSON.stringify({ RECIPE, nodeVersion, arch, root, launcher: sha256(launcher), debs: debs.map(baseName) }));
  const done = join(cacheDir, 'node-runtime', `${arch}-${nodeVersion}-${key.slice(0, 16)}`);
  const cached = await readBuild(done);
  if (cached) return { files: cached, nodeVersion };

  await mkdir(join(cacheDir, 'node-runtime'), { recursive: true });
  const work = await mkdtemp(join(cacheDir, 'node-runtime', `.build-${arch}-`));
  try {
    const started = Date.now();
    const { nodePath, libDir, libs } = await prepareNodeAndLibs({ arch, nodeVersion, cacheDir, strip: true, log }, work, debs);
    const tools = { strip: await stripTool(arch).then((tool) => tool.version), patchelf: await patchelfVersion() };

    // The SEA blob, made by the target's own Node (same version as the binary it goes into).
    await writeFile(join(work, 'launcher.cjs'), launcher);
    await writeFile(join(work, 'sea-config.json'), seaConfig('launcher.cjs', false));
    await runTarget(arch, libDir, [nodePath, '--experimental-sea-config', 'sea-config.json'], work, 'making the SEA blob');

    const bootstrap = join(work, 'bootstrap');
    await rename(nodePath, bootstrap);
    const { loader } = ARCH_NAMES[arch];
    await injectBlob({ arch, nodeVersion, interpreter: `${root}/lib/${loader}`, libDir, work, bootstrap, blob: join(work, 'sea.blob') });

    const files: ArtifactFile[] = [{ path: 'bootstrap', data: await readFile(bootstrap), mode: 0o755 }];
    for (const lib of libs) {
      files.push({ path: `lib/${lib}`, data: await readFile(join(libDir, lib)), mode: lib === loader ? 0o755 : 0o644 });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await writeBuild(work, done, files, { nodeVersion, arch, root, recipe: RECIPE, debs: debs.map(baseName), tools });
    log(`built the Node ${nodeVersion} runtime for ${arch} in ${Date.now() - started} ms`);
    return { files, nodeVersion };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes a runtime's files under `dir` (tests, the CLI, tools that want a directory). */
export async function writeNodeRuntime(runtime: NodeRuntime, dir: string): Promise<void> {
  for (const file of runtime.files) {
    const path = join(dir, file.path);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, file.data);
    await chmod(path, file.mode);
  }
}

/** Options a Node builder cannot build, named by the builder they were given to. */
export function invalidOptions(message: string, caller = 'buildNodeRuntime'): KitError {
  return new KitError('LK_KIT_INVALID_OPTIONS', `${caller}: ${message}`);
}
