/**
 * 5. Sizes: what ships. The runtime loop alone (esbuild, minified, as a
 * function's bundle holds it), hello's code-only (thin) zip and its Node
 * layer, the self-contained zip, and the image, per arch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '../../src/platform/arch.ts';
import { sizeOf, type Artifact } from '../../src/build/artifacts/formats.ts';
import { bundleOf } from '../../test/support/bundle.ts';
import {
  HOST_ARCH,
  benchKitCache,
  docker,
  dockerUnavailable,
  imageExists,
  num,
  repoRoot,
  runBuild,
  standInBase,
  type BenchSection,
  type BenchTarget,
  type SectionOptions,
} from '../support.ts';

const TARGET_THIN_BYTES = 20 * 1024;

function row(what: string, bytes: number, how: string): string[] {
  return [what, sizeOf(bytes), num(bytes), how];
}

export async function sizes(options: SectionOptions): Promise<BenchSection> {
  const env = { LAMBDA_KIT_CACHE_DIR: benchKitCache(options) };
  const out = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-sizes-'));
  const notes: string[] = [];
  const tags: string[] = [];
  try {
    const runtime = await bundleOf(join(repoRoot, 'runtime/index.ts'));
    const table = [
      ['artifact', 'size', 'bytes', 'what'],
      row(
        'runtime loop (`runtime/index.ts`)',
        runtime.bytes,
        `esbuild, minified as the kit does (whitespace and syntax, names kept), node22; ${runtime.inputs.length} files, imports ${[...new Set(runtime.externals)].join(' ')}`,
      ),
    ];
    const thin = await runBuild(['hello', '--layout', 'thin', '--arch', HOST_ARCH, '--out', join(out, 'thin')], env);
    const code = thin.artifacts.find((artifact) => artifact.kind === 'function')!;
    const layer = thin.artifacts.find((artifact) => artifact.kind === 'runtime-layer')!;
    table.push(row('hello thin zip', code.size, '`--layout thin`: index.mjs and its source map'));
    table.push(row(`hello thin: Node layer zip (${HOST_ARCH})`, layer.size, 'bootstrap and lib/ for /opt'));

    const arches: Arch[] = options.smoke ? [HOST_ARCH] : ['x86_64', 'arm64'];
    if (options.smoke) notes.push(`Smoke run: ${HOST_ARCH} only.`);
    for (const arch of arches) {
      const built = await runBuild(['hello', '--arch', arch, '--out', join(out, arch)], env);
      table.push(row(`hello self-contained zip (${arch})`, built.artifacts[0]!.size, 'bootstrap, lib/, index.mjs and its map'));
    }
    const noDocker = await dockerUnavailable(options);
    if (noDocker) notes.push(`Images: ${noDocker}.`);
    for (const arch of noDocker ? [] : arches) {
      const base = standInBase(arch);
      if (!(await imageExists(base))) {
        notes.push(`${arch} image skipped: the stand-in base ${base} is missing (bash scripts/setup.sh builds it).`);
        continue;
      }
      const tag = `lambda-kit-bench/hello-size:${arch}`;
      tags.push(tag);
      const built = await runBuild(['hello', '--arch', arch, '--format', 'image', '--base-image', base, '--tag', tag], env);
      const image: Artifact = built.artifacts[0]!;
      const baseSize = (await docker.getImage(base).inspect()).Size;
      table.push(row(`hello image (${arch})`, image.size, `\`docker image inspect\` Size, FROM ${base} (${sizeOf(baseSize)} of it)`));
    }
    const targets: BenchTarget[] = [
      {
        what: 'hello thin zip',
        measured: sizeOf(code.size),
        target: `<= ${sizeOf(TARGET_THIN_BYTES)}`,
        ratio: code.size / TARGET_THIN_BYTES,
        met: code.size <= TARGET_THIN_BYTES,
      },
    ];
    return {
      title: 'Sizes',
      intro: 'Built by `lambda-kit build hello` (Node 24, minified bundle with a source map, deterministic zips); sizes in KB/MB of 1024.',
      table,
      targets,
      notes,
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
