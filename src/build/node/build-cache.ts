/**
 * Finished builds of Node in the cache: a directory of the files and a
 * manifest.json written last, so that a build cut short is never taken for a
 * finished one; a damaged one is built again.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArtifactFile } from '../artifact-file.ts';
import { sha256 } from './tools.ts';

interface Manifest {
  nodeVersion: string;
  files: Array<{ path: string; mode: number; size: number; sha256: string }>;
  [more: string]: unknown;
}

export async function readBuild(dir: string): Promise<ArtifactFile[] | undefined> {
  const manifest = await readFile(join(dir, 'manifest.json'), 'utf8').then(
    (text) => JSON.parse(text) as Manifest,
    () => undefined,
  );
  if (!manifest) return undefined;
  const files: ArtifactFile[] = [];
  for (const entry of manifest.files) {
    const data = await readFile(join(dir, entry.path)).catch(() => undefined);
    if (!data || data.length !== entry.size) return undefined; // damaged: build again
    files.push({ path: entry.path, data, mode: entry.mode, sha256: entry.sha256 });
  }
  return files;
}

/** Writes `files` and their manifest under `work`, then moves them to `dir` at once. */
export async function writeBuild(work: string, dir: string, files: ArtifactFile[], about: Record<string, unknown>): Promise<void> {
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
