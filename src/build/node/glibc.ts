/**
 * The glibc a Node runs on, from Debian's packages for the target (libc6,
 * libgcc-s1, libstdc++6, fetched with apt-get into the cache when missing):
 * Node extracted into a work directory, with the NEEDED closure of its
 * libraries from those packages beside it, as regular files.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCH_NAMES, type Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { extractNode, nodeTarball } from './download.ts';
import { needed, stripAll } from './elf.ts';
import { baseName, exists, isRoot, tool, which } from './tools.ts';

/** Debian packages whose libraries the runtime needs. */
const DEB_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'];

export interface Prepared {
  nodePath: string;
  libDir: string;
  /** File names in libDir, sorted. */
  libs: string[];
}

/** Extracts node (stripped or not) to <work>/node and its libraries to <work>/lib/. */
export async function prepareNodeAndLibs(
  options: {
    arch: Arch;
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
  const { triple, loader } = ARCH_NAMES[arch];
  const nodePath = join(work, 'node');
  if (options.node) {
    await writeFile(nodePath, await readFile(options.node), { mode: 0o755 });
  } else {
    const tarball = await nodeTarball(arch, nodeVersion, cacheDir, log);
    await writeFile(nodePath, await extractNode(tarball), { mode: 0o755 });
  }
  if (options.strip && !options.node) await stripAll(arch, nodePath);

  const debRoot = join(work, 'debs');
  await mkdir(debRoot);
  for (const deb of debs) {
    await tool('dpkg-deb', ['-x', deb, debRoot], { code: 'LK_KIT_GLIBC_UNAVAILABLE', what: `dpkg-deb -x ${deb}` });
  }
  const searchDirs = [`lib/${triple}`, `usr/lib/${triple}`, 'lib', 'usr/lib'].map((d) => join(debRoot, d));
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
  if (!libs.has(loader)) libs.add(loader);
  await rm(debRoot, { recursive: true, force: true });
  return { nodePath, libDir, libs: [...libs].sort() };
}

/** The .deb files of DEB_PACKAGES for the arch, downloaded with apt-get when missing. */
export async function ensureDebs(arch: Arch, cacheDir: string, log: (m: string) => void): Promise<string[]> {
  const debArch = ARCH_NAMES[arch].debian;
  const dir = join(cacheDir, 'debs', debArch);
  const find = async () => {
    const names = await readdir(dir).catch(() => [] as string[]);
    return DEB_PACKAGES.map((p) =>
      names
        .filter((n) => n.startsWith(`${p}_`) && n.endsWith(`_${debArch}.deb`))
        .sort()
        .at(-1),
    );
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

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) if (await exists(path)) return path;
  return undefined;
}
