/**
 * Which Node: the newest release of a major published on npm as
 * node-linux-<cpu> for the arch, from a short-lived listing of the registry's
 * versions in the cache (or the newest cached tarball when npm cannot answer).
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ARCH_NAMES, type Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { tool } from './tools.ts';

/** The npm package of Node's official binary for the arch. */
export function npmPackage(arch: Arch): string {
  return `node-linux-${ARCH_NAMES[arch].nodeCpu}`;
}

/** '24.21.0', not a range or a tag. */
export function isExactVersion(version: string): boolean {
  return /^\d+\.\d+\.\d+$/.test(version);
}

/**
 * How long a listing of the registry's Node versions is trusted: a build in
 * that time asks npm again (a process and a registry round trip) only when
 * nothing was listed. Node releases come weeks apart; an exact nodeVersion
 * asks nothing at all.
 */
export const NODE_VERSIONS_TTL_MS = 10 * 60_000;

/** The newest version of Node `major` published as node-linux-<cpu> (the newest cached one when the registry does not answer). */
export async function resolveNodeVersion(
  arch: Arch,
  major: number,
  cacheDir: string,
  log: (message: string) => void = () => {},
  now: () => number = Date.now,
): Promise<string> {
  const name = npmPackage(arch);
  const ofMajor = (versions: string[]) =>
    versions.filter((v) => isExactVersion(v) && Number(v.split('.')[0]) === major).sort(compareVersions);
  const listing = join(cacheDir, 'npm', `${name}.versions.json`);
  let versions = ofMajor(await readFreshListing(listing, now()));
  if (versions.length === 0) {
    let all: string[];
    try {
      const { stdout } = await tool('npm', ['view', name, 'versions', '--json'], {
        code: 'LK_KIT_NODE_UNAVAILABLE',
        what: `npm view ${name} versions`,
      });
      const parsed: unknown = JSON.parse(stdout);
      all = Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
    } catch (error) {
      const cached = ofMajor(
        (await readdir(join(cacheDir, 'npm')).catch(() => []))
          .map((file) => file.match(new RegExp(`^${name}-(\\d+\\.\\d+\\.\\d+)\\.tgz$`))?.[1])
          .filter((v): v is string => v !== undefined),
      );
      const newest = cached.at(-1);
      if (newest === undefined) {
        throw new KitError(
          'LK_KIT_NODE_UNAVAILABLE',
          `cannot list the versions of ${name} (Node ${major} for ${arch}) and none is cached in ${join(cacheDir, 'npm')}: ` +
            `check that npm can reach its registry (npm view ${name} versions), or pass an exact nodeVersion. ${(error as Error).message}`,
          { cause: error },
        );
      }
      log(`npm could not list ${name} versions; using the cached Node ${newest}`);
      return newest;
    }
    versions = ofMajor(all);
    await saveListing(listing, { listedAt: now(), versions: all });
  }
  const newest = versions.at(-1);
  if (newest === undefined) {
    throw new KitError('LK_KIT_NODE_UNAVAILABLE', `npm has no ${name} release of Node ${major} (for ${arch}): choose another nodeMajor`);
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

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
