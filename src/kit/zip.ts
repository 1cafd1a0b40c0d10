/**
 * Deterministic zips (yazl): entries sorted by path, one fixed timestamp
 * (1980-01-01, or SOURCE_DATE_EPOCH), fixed modes and compression level, no
 * extra timestamp fields. The same files give the same bytes, on any machine
 * and in any time zone.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import yazl from 'yazl';
import { KitError } from './errors.ts';
import type { ArtifactFile } from './packages.ts';

/** zlib's level: fixed, so that the bytes do not depend on a default. */
export const COMPRESSION_LEVEL = 6;

/**
 * The timestamp of every entry. A zip stores local wall-clock time without a
 * zone, and yazl reads a Date's local fields: the Date is made from the UTC
 * fields of the instant, so that the stored time is that instant's UTC time
 * whatever the machine's time zone.
 */
export function zipTimestamp(env: NodeJS.ProcessEnv = process.env): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  let instant = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));
  if (epoch !== undefined && epoch !== '') {
    const seconds = Number(epoch);
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw new KitError('LK_KIT_BAD_OPTION', `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got "${epoch}"`);
    }
    // A zip cannot hold a time before 1980.
    instant = new Date(Math.max(seconds * 1000, instant.getTime()));
  }
  return new Date(
    instant.getUTCFullYear(),
    instant.getUTCMonth(),
    instant.getUTCDate(),
    instant.getUTCHours(),
    instant.getUTCMinutes(),
    instant.getUTCSeconds(),
  );
}

function checkPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.split('/').some((part) => part === '' || part === '.' || part === '..') || path.includes('\\')) {
    throw new KitError('LK_KIT_ZIP', `cannot put "${path}" into a zip: paths are relative, with / between names`);
  }
}

/** The zip of `files`, in memory. */
export async function createZip(files: ArtifactFile[], options: { mtime?: Date } = {}): Promise<Buffer> {
  const mtime = options.mtime ?? zipTimestamp();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    checkPath(sorted[i]!.path);
    if (i > 0 && sorted[i]!.path === sorted[i - 1]!.path) {
      throw new KitError('LK_KIT_ZIP', `two files would go to ${sorted[i]!.path} in the zip`);
    }
  }
  const zip = new yazl.ZipFile();
  for (const file of sorted) {
    const mode = file.mode & 0o111 ? 0o755 : 0o644;
    zip.addBuffer(file.data, file.path, {
      mtime,
      mode: 0o100000 | mode,
      compress: true,
      compressionLevel: COMPRESSION_LEVEL,
      forceDosTimestamp: true,
    });
  }
  zip.end();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

export interface WrittenZip {
  path: string;
  sha256: string;
  size: number;
}

/** Writes the zip of `files` to `path` (through a temporary file, so a reader never sees half a zip). */
export async function writeZip(path: string, files: ArtifactFile[], options: { mtime?: Date } = {}): Promise<WrittenZip> {
  const data = await createZip(files, options);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new KitError('LK_KIT_WRITE', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { path, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}
