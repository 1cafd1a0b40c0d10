import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ArtifactFile } from '../artifact-file.ts';

/** Where the bootstrap looks for the local emulator, beside itself. */
const LOCAL_EMULATOR_DIR = '.lambda-kit';

/**
 * The emulator an image serves itself with under plain `docker run`, bundled
 * for the image (as ESM with split chunks: the zip and container launchers,
 * which an image never needs, stay in chunks that are never loaded, and their
 * packages are left out).
 */
export async function bundleLocalEmulator(): Promise<ArtifactFile[]> {
  const own = extname(fileURLToPath(import.meta.url));
  const entry = fileURLToPath(new URL(`../../emulator/image-entry${own === '.ts' ? '.ts' : '.js'}`, import.meta.url));
  const result = await build({
    entryPoints: { 'local-emulator': entry },
    bundle: true,
    splitting: true,
    write: false,
    outdir: '/out',
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    external: ['dockerode', 'extract-zip', 'tar-stream'],
    logLevel: 'silent',
  });
  return result.outputFiles
    .map((file) => ({
      path: `${LOCAL_EMULATOR_DIR}/${file.path.slice('/out/'.length)}`,
      data: Buffer.from(file.contents),
      mode: 0o644,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
