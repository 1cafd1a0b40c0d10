/**
 * npm packages in a build: finding them on disk, copying externals with their
 * production dependencies into the artifact's node_modules/, and telling
 * native addons apart (they are compiled for one platform and cannot go into
 * a bundle).
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ARCH_NAMES, type Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { KitError } from '../errors.ts';

/** Packages that load a compiled addon at run time: a package that depends on one is native. */
export const ADDON_LOADERS = [
  'bindings',
  'node-gyp-build',
  'node-gyp-build-optional-packages',
  'prebuild-install',
  'node-pre-gyp',
  '@mapbox/node-pre-gyp',
  'nan',
  'node-addon-api',
];

interface PackageJson {
  name?: string;
  version?: string;
  gypfile?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return {};
  }
}

/** The package a file of node_modules belongs to: its directory and name, or undefined for the project's own files. */
export function packageOf(file: string): { name: string; dir: string } | undefined {
  const parts = resolve(file).split(sep);
  const index = parts.lastIndexOf('node_modules');
  if (index < 0 || index + 1 >= parts.length - 1) return undefined;
  const scoped = parts[index + 1]!.startsWith('@');
  const nameParts = parts.slice(index + 1, index + (scoped ? 3 : 2));
  if (nameParts[0] === '.pnpm') return undefined;
  return { name: nameParts.join('/'), dir: parts.slice(0, index + 1 + nameParts.length).join(sep) };
}

/** Node's lookup: `<dir>/node_modules/<name>`, then the same in each parent directory. */
function findPackageDir(name: string, fromDir: string): string | undefined {
  let dir = resolve(fromDir);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Every file of a package, its own node_modules/ left out (dependencies are found and placed apart). */
function packageFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      const path = join(current, entry.name);
      let stats: Stats;
      try {
        stats = statSync(path); // follows symlinks
      } catch {
        continue; // a dangling link
      }
      if (stats.isDirectory()) walk(path);
      else if (stats.isFile()) files.push(path);
    }
  };
  walk(dir);
  return files;
}

const ELF_MACHINES: Record<number, string> = { 62: 'x86_64', 183: 'arm64', 3: 'x86', 40: 'arm' };

/** What a compiled addon was built for: "linux-x86_64", "darwin", "windows", ... */
function addonPlatform(file: string): { os: string; arch: string } {
  const header = Buffer.alloc(20);
  let read = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, header, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return { os: 'unknown', arch: 'unknown' };
  }
  if (read >= 20 && header.readUInt32BE(0) === 0x7f454c46) {
    const littleEndian = header[5] === 1;
    const machine = littleEndian ? header.readUInt16LE(18) : header.readUInt16BE(18);
    return { os: 'linux', arch: ELF_MACHINES[machine] ?? `machine ${machine}` };
  }
  const magic = read >= 4 ? header.readUInt32BE(0) : 0;
  if ([0xcffaedfe, 0xcefaedfe, 0xcafebabe, 0xfeedfacf].includes(magic)) return { os: 'darwin', arch: 'unknown' };
  if (read >= 2 && header[0] === 0x4d && header[1] === 0x5a) return { os: 'windows', arch: 'unknown' };
  return { os: 'unknown', arch: 'unknown' };
}

export interface NativeEvidence {
  /** binding.gyp, `"gypfile": true`. */
  buildScript: string | undefined;
  /** Compiled addons, relative to the package. */
  addons: string[];
  /** Addon loaders the package depends on. */
  loaders: string[];
}

/** Signs that a package holds a native addon; undefined when there are none. */
export function nativeEvidence(dir: string): NativeEvidence | undefined {
  const pkg = readPackageJson(dir);
  const buildScript = existsSync(join(dir, 'binding.gyp')) ? 'binding.gyp' : pkg.gypfile ? '"gypfile": true' : undefined;
  const dependencies = { ...pkg.dependencies, ...pkg.optionalDependencies };
  const loaders = ADDON_LOADERS.filter((loader) => loader in dependencies);
  const addons = packageFiles(dir)
    .filter((file) => file.endsWith('.node'))
    .map((file) => relative(dir, file).split(sep).join('/'));
  if (!buildScript && loaders.length === 0 && addons.length === 0) return undefined;
  return { buildScript, addons, loaders };
}

export function describeEvidence(evidence: NativeEvidence): string {
  const parts: string[] = [];
  if (evidence.addons.length > 0) parts.push(evidence.addons.slice(0, 3).join(', ') + (evidence.addons.length > 3 ? ', ...' : ''));
  if (evidence.buildScript) parts.push(evidence.buildScript);
  if (evidence.loaders.length > 0) parts.push(`depends on ${evidence.loaders.join(', ')}`);
  return parts.join('; ');
}

export function nativeAddonError(name: string, evidence: string, arch: Arch, why: string, external = false): KitError {
  const cpu = ARCH_NAMES[arch].nodeCpu;
  const otherwise = external
    ? `Install its prebuilt binary for linux-${arch} (npm install --os=linux --cpu=${cpu}) before building, or build it on a linux-${arch} machine (npm rebuild ${name}) and build from there.`
    : `Mark it --external ${name}: it is then shipped as files, and accepted when its binary is for linux-${arch} (install or rebuild it for linux-${arch} first).`;
  return new KitError('LK_KIT_NATIVE_ADDON', `package "${name}" contains a native addon (${evidence}), ${why}. ${otherwise}`);
}

function describePlatform(platform: { os: string; arch: string }): string {
  if (platform.os === 'unknown') return 'a format this build does not recognise';
  if (platform.arch === 'unknown') return platform.os;
  return `${platform.os}-${platform.arch}`;
}

interface PlacedPackage {
  name: string;
  dir: string;
  /** Where it goes in the artifact, e.g. node_modules/a or node_modules/a/node_modules/b. */
  at: string;
}

/**
 * The externals and their production dependencies (dependencies, and
 * optionalDependencies and peerDependencies when installed), placed so that
 * Node's lookup from the artifact finds each package's own dependency:
 * hoisted to node_modules/<name> when the name is free, else nested under
 * the package that needs it.
 */
export function placeExternals(names: string[], fromDir: string, arch: Arch): PlacedPackage[] {
  const placed: PlacedPackage[] = [];
  const byAt = new Map<string, PlacedPackage>();
  const queue: Array<{ name: string; dir: string; parentAt: string | undefined; optional: boolean; neededBy: string }> = [];
  for (const name of names) {
    const dir = findPackageDir(name, fromDir);
    if (!dir) {
      throw new KitError(
        'LK_KIT_EXTERNAL_NOT_FOUND',
        `--external ${name}: the package is not installed (looked for node_modules/${name} from ${fromDir} upwards); npm install it first`,
      );
    }
    queue.push({ name, dir, parentAt: undefined, optional: false, neededBy: 'the build' });
  }
  const realOf = (dir: string) => realpathSync(dir);
  // Is the package in `dir` already reachable from `at` by Node's lookup?
  const reachable = (name: string, real: string, fromAt: string | undefined): 'same' | 'other' | 'free' => {
    const candidates: string[] = [];
    let at = fromAt;
    while (at !== undefined) {
      candidates.push(`${at}/node_modules/${name}`);
      const index = at.lastIndexOf('/node_modules/');
      at = index < 0 ? undefined : at.slice(0, index);
    }
    candidates.push(`node_modules/${name}`);
    for (const candidate of candidates) {
      const found = byAt.get(candidate);
      if (found) return realOf(found.dir) === real ? 'same' : 'other';
    }
    return 'free';
  };
  while (queue.length > 0) {
    const item = queue.shift()!;
    const real = realOf(item.dir);
    const state = reachable(item.name, real, item.parentAt);
    if (state === 'same') continue;
    const at =
      state === 'free' && !byAt.has(`node_modules/${item.name}`)
        ? `node_modules/${item.name}`
        : `${item.parentAt ?? ''}/node_modules/${item.name}`.replace(/^\//, '');
    const entry: PlacedPackage = { name: item.name, dir: real, at };
    placed.push(entry);
    byAt.set(at, entry);
    const pkg = readPackageJson(real);
    const deps: Array<[string, boolean]> = [
      ...Object.keys(pkg.dependencies ?? {}).map((name): [string, boolean] => [name, false]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true]),
      ...Object.keys(pkg.peerDependencies ?? {}).map((name): [string, boolean] => [name, true]),
    ];
    for (const [name, optional] of deps.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      // Resolved as Node would from the package's real location (pnpm and workspaces link packages).
      const dir = findPackageDir(name, real);
      if (!dir) {
        if (optional) continue;
        throw new KitError(
          'LK_KIT_EXTERNAL_NOT_FOUND',
          `package "${item.name}" (an external) depends on "${name}", which is not installed; run npm install`,
        );
      }
      queue.push({ name, dir, parentAt: at, optional, neededBy: item.name });
    }
  }
  // Native addons among the externals are fine only with a binary for the target.
  for (const entry of placed) {
    const evidence = nativeEvidence(entry.dir);
    if (!evidence) continue;
    if (evidence.addons.length === 0 && !evidence.buildScript) continue; // only depends on a loader: the addon is elsewhere
    const platforms = evidence.addons.map((addon) => addonPlatform(join(entry.dir, addon)));
    if (platforms.some((platform) => platform.os === 'linux' && platform.arch === arch)) continue;
    const found =
      platforms.length > 0
        ? `its binaries are for ${[...new Set(platforms.map(describePlatform))].join(', ')}`
        : 'it has no prebuilt binary';
    throw nativeAddonError(entry.name, describeEvidence(evidence), arch, `and ${found}, none for linux-${arch}`, true);
  }
  return placed.sort((a, b) => (a.at < b.at ? -1 : 1));
}

/** The files of placed packages, for the artifact. */
export function externalFiles(placed: PlacedPackage[]): ArtifactFile[] {
  const files: ArtifactFile[] = [];
  for (const entry of placed) {
    for (const file of packageFiles(entry.dir)) {
      const stats = lstatSync(file).isSymbolicLink() ? statSync(file) : lstatSync(file);
      files.push({
        path: `${entry.at}/${relative(entry.dir, file).split(sep).join('/')}`,
        data: readFileSync(file),
        mode: stats.mode & 0o111 ? 0o755 : 0o644,
      });
    }
  }
  return files;
}
