/**
 * A plain Node (not a SEA) with the glibc it runs on, its ELF interpreter and
 * DT_RPATH in a given directory: what the builder images carry in
 * /opt/lambda-kit, and the Node of extension layers, which an extension's #!
 * line names.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCH_NAMES, ARCHES, type Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import type { NodeMajor } from '../project/choices.ts';
import { readBuild, writeBuild } from './build-cache.ts';
import { patchelf, patchelfVersion, stripTool } from './elf.ts';
import { ensureDebs, prepareNodeAndLibs } from './glibc.ts';
import { invalidOptions, writeNodeRuntime, type NodeRuntime } from './node-runtime.ts';
import { baseName, sha256 } from './tools.ts';
import { isExactVersion, resolveNodeVersion } from './version.ts';

/** Bumped whenever what buildNodeWithGlibc produces changes for the same inputs. */
const GLIBC_RECIPE = 'node-glibc-1';

export interface NodeWithGlibcOptions {
  arch: Arch;
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
 * buildNodeRuntime's builds: patching and reading all of Node again is slow.
 */
export async function buildNodeWithGlibc(options: NodeWithGlibcOptions): Promise<ArtifactFile[]> {
  const { arch, cacheDir, nodeVersion } = options;
  const log = options.log ?? (() => {});
  if (!ARCHES.includes(arch)) throw invalidOptions(`unknown arch '${String(arch)}': 'x86_64' or 'arm64'`, 'buildNodeWithGlibc');
  if (!isExactVersion(nodeVersion))
    throw invalidOptions(`nodeVersion '${nodeVersion}' is not an exact version like '24.21.0'`, 'buildNodeWithGlibc');
  if (!options.libPath.startsWith('/')) throw invalidOptions(`libPath '${options.libPath}' is not an absolute path`, 'buildNodeWithGlibc');
  const strip = options.strip ?? false;
  const extraLibs = [...new Set(options.extraLibs ?? [])].sort();
  const debs = await ensureDebs(arch, cacheDir, log);
  const key = sha256(
    JSON.stringify({ RECIPE: GLIBC_RECIPE, nodeVersion, arch, libPath: options.libPath, extraLibs, strip, debs: debs.map(baseName) }),
  );
  const done = join(cacheDir, 'node-glibc', `${arch}-${nodeVersion}-${key.slice(0, 16)}`);
  const cached = await readBuild(done);
  if (cached) return cached;

  await mkdir(join(cacheDir, 'node-glibc'), { recursive: true });
  const work = await mkdtemp(join(cacheDir, 'node-glibc', `.build-${arch}-`));
  try {
    const started = Date.now();
    const { nodePath, libDir, libs } = await prepareNodeAndLibs({ arch, nodeVersion, cacheDir, extraLibs, strip, log }, work, debs);
    await patchelf(nodePath, `${options.libPath}/${ARCH_NAMES[arch].loader}`, options.libPath);
    const files: ArtifactFile[] = [{ path: 'bin/node', data: await readFile(nodePath), mode: 0o755 }];
    for (const lib of libs) files.push({ path: `lib/${lib}`, data: await readFile(join(libDir, lib)), mode: 0o755 });
    const tools = { ...(strip && { strip: (await stripTool(arch)).version }), patchelf: await patchelfVersion() };
    await writeBuild(work, done, files, {
      nodeVersion,
      arch,
      libPath: options.libPath,
      extraLibs,
      strip,
      recipe: GLIBC_RECIPE,
      debs: debs.map(baseName),
      tools,
    });
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

/** What the build calls for the Node of extension layers: buildExtensionNode, or a stand-in (tests). */
export type ExtensionNodeBuilder = (options: ExtensionNodeOptions) => Promise<NodeRuntime>;

export interface ExtensionNodeOptions {
  arch: Arch;
  /** The newest release of this major published for `arch`. Default 24. */
  nodeMajor?: NodeMajor;
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
  if (nodeMajor !== 24 && nodeMajor !== 22)
    throw invalidOptions(`unsupported nodeMajor ${String(nodeMajor)}: 24 or 22`, 'buildExtensionNode');
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
