/**
 * Deterministic zips: entries sorted by path, one fixed timestamp
 * (1980-01-01, or SOURCE_DATE_EPOCH), fixed modes and compression level, no
 * extra timestamp fields. The same files give the same bytes, on any machine
 * and in any time zone.
 *
 * The bytes are those yazl wrote for the same entries (addBuffer, a DOS
 * timestamp only): written here so that a big entry's deflated form can come
 * from a cache. Node's bootstrap is most of a zip, deflating it is most of a
 * build's time, and it is the same in every build of a function.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';
import { KitError } from '../errors.ts';
import type { ArtifactFile } from '../artifact-file.ts';

/** zlib's level: fixed, so that the bytes do not depend on a default. */
export const COMPRESSION_LEVEL = 6;

/**
 * The timestamp of every entry. A zip stores local wall-clock time without a
 * zone, read from a Date's local fields: the Date is made from the UTC
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
  if (
    path === '' ||
    path.startsWith('/') ||
    path.split('/').some((part) => part === '' || part === '.' || part === '..') ||
    path.includes('\\')
  ) {
    throw new KitError('LK_KIT_ZIP', `cannot put "${path}" into a zip: paths are relative, with / between names`);
  }
}

export interface ZipOptions {
  mtime?: Date;
  /**
   * A directory where deflated forms of entries of DEFLATE_CACHE_MIN_BYTES
   * or more are kept, by content: a later zip with the same file reads them
   * instead of deflating again. The zip's bytes are the same either way.
   */
  deflateCache?: string;
}

/** Entries smaller than this are deflated every time: quick, and a function's own code changes from build to build. */
export const DEFLATE_CACHE_MIN_BYTES = 1024 * 1024;

/** The zip of `files`, in memory. */
export async function createZip(files: ArtifactFile[], options: ZipOptions = {}): Promise<Buffer> {
  const mtime = options.mtime ?? zipTimestamp();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    checkPath(sorted[i]!.path);
    if (i > 0 && sorted[i]!.path === sorted[i - 1]!.path) {
      throw new KitError('LK_KIT_ZIP', `two files would go to ${sorted[i]!.path} in the zip`);
    }
  }
  // Every entry deflates at once (zlib runs on libuv's thread pool), as yazl did.
  const deflated = await Promise.all(sorted.map((file) => deflateEntry(file, options.deflateCache)));
  const { time, date } = dosDateTime(mtime);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < sorted.length; i++) {
    const file = sorted[i]!;
    const { data, crc } = deflated[i]!;
    const name = Buffer.from(file.path, 'utf8');
    if (file.data.length > ZIP32_MAX || data.length > ZIP32_MAX || offset > ZIP32_MAX) {
      throw new KitError('LK_KIT_ZIP', `${file.path} makes the zip larger than 4 GB, far beyond what Lambda takes (250 MB unzipped)`);
    }
    const mode = file.mode & 0o111 ? 0o755 : 0o644;
    // The local header and the central directory record share a run of fields: version needed to name length.
    const fields = Buffer.alloc(26);
    fields.writeUInt16LE(VERSION_NEEDED, 0);
    fields.writeUInt16LE(UTF8_NAMES, 2);
    fields.writeUInt16LE(DEFLATE, 4);
    fields.writeUInt16LE(time, 6);
    fields.writeUInt16LE(date, 8);
    fields.writeUInt32LE(crc, 10);
    fields.writeUInt32LE(data.length, 14);
    fields.writeUInt32LE(file.data.length, 18);
    fields.writeUInt16LE(name.length, 22);
    // (extra field length: 0)
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields.copy(local, 4);
    parts.push(local, name, data);

    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(VERSION_MADE_BY, 4);
    fields.copy(record, 6);
    // (comment length, disk number, internal attributes: 0)
    record.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38);
    record.writeUInt32LE(offset, 42);
    central.push(record, name);
    offset += local.length + name.length + data.length;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  if (sorted.length >= 0xffff || offset + centralSize > ZIP32_MAX) {
    throw new KitError('LK_KIT_ZIP', `${sorted.length} files make a zip larger than Lambda takes (250 MB unzipped)`);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

const VERSION_NEEDED = 20;
/** Unix (3), spec version 6.3: what yazl writes. */
const VERSION_MADE_BY = (3 << 8) | 63;
const UTF8_NAMES = 1 << 11;
const DEFLATE = 8;
/** Above this a zip needs ZIP64 records, which no Lambda artifact does. */
const ZIP32_MAX = 0xfffffffe;

const deflate = promisify(deflateRaw);

/**
 * A zip stores local wall-clock fields; they are read from the Date's local
 * fields (zipTimestamp made them the instant's UTC ones), clamped to what the
 * DOS format holds.
 */
function dosDateTime(mtime: Date): { time: number; date: number } {
  const min = new Date(1980, 0, 1);
  const max = new Date(2107, 11, 31, 23, 59, 58);
  const at = mtime < min ? min : mtime > max ? max : mtime;
  return {
    date: (at.getDate() & 0x1f) | (((at.getMonth() + 1) & 0xf) << 5) | (((at.getFullYear() - 1980) & 0x7f) << 9),
    time: Math.floor(at.getSeconds() / 2) | ((at.getMinutes() & 0x3f) << 5) | ((at.getHours() & 0x1f) << 11),
  };
}

interface Deflated {
  data: Buffer;
  /** CRC-32 of the file as it is (not deflated). */
  crc: number;
}

/**
 * A cache file: "LKZD1", the CRC-32 of the file, the CRC-32 of the deflated
 * bytes (checked on every read: a damaged entry is deflated again), then the
 * deflated bytes. Named by the file's SHA-256, the level and zlib's version.
 */
const CACHE_MAGIC = Buffer.from('LKZD1');
const CACHE_HEADER = CACHE_MAGIC.length + 8;

async function deflateEntry({ data: file, sha256 }: ArtifactFile, cacheDir: string | undefined): Promise<Deflated> {
  const crc = crc32(file);
  if (cacheDir === undefined || file.length < DEFLATE_CACHE_MIN_BYTES) {
    return { data: await deflate(file, { level: COMPRESSION_LEVEL }), crc };
  }
  // A digest handed in (the Node runtime cache's manifest) is not trusted blindly: the entry's CRC-32 must match too.
  const key = sha256 ?? createHash('sha256').update(file).digest('hex');
  const path = join(cacheDir, `${key}-${COMPRESSION_LEVEL}-zlib${process.versions.zlib}.deflate`);
  const cached = await readFile(path).catch(() => undefined);
  if (
    cached !== undefined &&
    cached.length >= CACHE_HEADER &&
    cached.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC) &&
    cached.readUInt32LE(CACHE_MAGIC.length) === crc &&
    cached.readUInt32LE(CACHE_MAGIC.length + 4) === crc32(cached.subarray(CACHE_HEADER))
  ) {
    return { data: cached.subarray(CACHE_HEADER), crc };
  }
  const data = await deflate(file, { level: COMPRESSION_LEVEL });
  const header = Buffer.alloc(CACHE_HEADER);
  CACHE_MAGIC.copy(header);
  header.writeUInt32LE(crc, CACHE_MAGIC.length);
  header.writeUInt32LE(crc32(data), CACHE_MAGIC.length + 4);
  // A cache: when it cannot be written, the zip is still right.
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await mkdir(cacheDir, { recursive: true })
    .then(() => writeFile(temporary, Buffer.concat([header, data])))
    .then(() => rename(temporary, path))
    .catch(() => rm(temporary, { force: true }).catch(() => {}));
  return { data, crc };
}

export interface WrittenZip {
  path: string;
  sha256: string;
  size: number;
}

/** Writes the zip of `files` to `path` (through a temporary file, so a reader never sees half a zip). */
export async function writeZip(path: string, files: ArtifactFile[], options: ZipOptions = {}): Promise<WrittenZip> {
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
