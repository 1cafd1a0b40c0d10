/**
 * --snapshot, after Node has made the SEA blob: the code cache of Node's
 * built-ins inside the startup snapshot, cut down to what a start can use.
 *
 * Node's snapshot builder compiles every built-in and appends their V8 code
 * caches to the snapshot. A start reads all of it, and that is most of what a
 * user-land snapshot costs over Node's own (see bench/README.md). Yet the
 * cache of a built-in is read only when that built-in is compiled, and one
 * the snapshot already holds (fs, net, events, ... over a hundred under the
 * AWS SDK) is never compiled again. Their caches are dropped here; those of
 * built-ins loaded after the start (https, tls, and the rest) stay. Nothing
 * else changes: V8's heap, the metadata, the SEA header.
 *
 * The layout read here is Node's own (src/node_snapshotable.cc, the
 * BlobSerializer): little-endian, sizes as 64-bit integers, strings as a
 * size and their bytes. The SEA blob holds the snapshot as a size and its
 * bytes; the snapshot starts with its magic and metadata (a type byte, then
 * the Node version) and ends with the code cache:
 *
 *   u64 count, then per built-in: u64 id size, id, u64 cache size, cache
 *
 * A blob not laid out so (another Node) is left as it is: the start is then
 * slower, never wrong.
 */

/** SnapshotData::kMagic. */
const SNAPSHOT_MAGIC = 0x0143da19;
/** Node has about 390 built-ins; ids are paths like `internal/http2/core`. */
const MAX_ENTRIES = 10_000;
const MAX_ID = 512;

export interface CodeCacheEntry {
  id: string;
  /** Offset of the entry (its id's size) in the blob, and of the byte after it. */
  start: number;
  end: number;
}

export interface SnapshotCodeCache {
  /** The snapshot in the blob: [start, end), its size stored in the 8 bytes before it. */
  snapshotStart: number;
  snapshotEnd: number;
  /** The Node that made it, from its metadata. */
  nodeVersion: string;
  /** Where the code cache's count is. */
  vectorStart: number;
  entries: CodeCacheEntry[];
}

export interface CodeCacheTrim {
  blob: Buffer;
  kept: number;
  dropped: number;
  droppedBytes: number;
}

/**
 * Finds the snapshot in a SEA blob (or in a bootstrap holding one), made by
 * Node `nodeVersion` if given, and the code cache at its end; undefined if
 * the layout is not the one described above.
 */
export function readSnapshotCodeCache(blob: Buffer, nodeVersion?: string): SnapshotCodeCache | undefined {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(SNAPSHOT_MAGIC);
  let found: SnapshotCodeCache | undefined;
  for (let at = blob.indexOf(magic); at !== -1; at = blob.indexOf(magic, at + 1)) {
    // The snapshot's size before it; after the magic, a type byte and the Node version as a string.
    if (at < 8 || at + 13 > blob.length) continue;
    const size = blob.readBigUInt64LE(at - 8);
    const versionSize = blob.readBigUInt64LE(at + 5);
    if (size > BigInt(blob.length - at) || versionSize > 32n) continue;
    const version = blob.toString('latin1', at + 13, at + 13 + Number(versionSize));
    if (!/^\d+\.\d+\.\d+$/.test(version) || (nodeVersion !== undefined && version !== nodeVersion)) continue;
    const end = at + Number(size);
    const vector = findVector(blob, at + 13 + version.length, end);
    if (!vector) continue;
    // Two snapshots that both parse: nothing to be sure of.
    if (found) return undefined;
    found = { snapshotStart: at, snapshotEnd: end, nodeVersion: version, vectorStart: vector.start, entries: vector.entries };
  }
  return found;
}

/**
 * The SEA blob with the code caches of `loaded` built-ins (those the
 * snapshot's heap already holds) left out; undefined if the blob is not laid
 * out as Node `nodeVersion`'s.
 */
export function dropLoadedBuiltinCaches(blob: Buffer, nodeVersion: string, loaded: ReadonlySet<string>): CodeCacheTrim | undefined {
  const found = readSnapshotCodeCache(blob, nodeVersion);
  if (!found) return undefined;
  const kept = found.entries.filter((entry) => !loaded.has(entry.id));
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(kept.length));
  const snapshot = Buffer.concat([
    blob.subarray(found.snapshotStart, found.vectorStart),
    count,
    ...kept.map((entry) => blob.subarray(entry.start, entry.end)),
  ]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(snapshot.length));
  return {
    blob: Buffer.concat([blob.subarray(0, found.snapshotStart - 8), size, snapshot, blob.subarray(found.snapshotEnd)]),
    kept: kept.length,
    dropped: found.entries.length - kept.length,
    droppedBytes: found.snapshotEnd - found.snapshotStart - snapshot.length,
  };
}

/**
 * The code cache vector: the one offset in [from, end) where a count and
 * that many entries end exactly at the snapshot's end. What comes before it
 * (V8's blob, Node's tables) has no size of its own to skip by.
 */
function findVector(blob: Buffer, from: number, end: number): { start: number; entries: CodeCacheEntry[] } | undefined {
  let found: { start: number; entries: CodeCacheEntry[] } | undefined;
  for (let at = from; at + 8 <= end; at++) {
    // A count below 2^16: its upper six bytes are zero (a cheap test before parsing).
    if (blob[at + 2] !== 0 || blob[at + 3] !== 0 || blob[at + 4] !== 0 || blob[at + 5] !== 0 || blob[at + 6] !== 0 || blob[at + 7] !== 0)
      continue;
    const entries = parseVector(blob, at, end);
    if (!entries) continue;
    if (found) return undefined;
    found = { start: at, entries };
  }
  return found;
}

function parseVector(blob: Buffer, at: number, end: number): CodeCacheEntry[] | undefined {
  const count = readSize(blob, at, end);
  if (count === undefined || count > MAX_ENTRIES) return undefined;
  const entries: CodeCacheEntry[] = [];
  let cursor = at + 8;
  for (let i = 0; i < count; i++) {
    const idSize = readSize(blob, cursor, end);
    if (idSize === undefined || idSize === 0 || idSize > MAX_ID || cursor + 8 + idSize > end) return undefined;
    const idStart = cursor + 8;
    for (let c = idStart; c < idStart + idSize; c++) if (blob[c]! < 0x21 || blob[c]! > 0x7e) return undefined;
    const dataSize = readSize(blob, idStart + idSize, end);
    if (dataSize === undefined) return undefined;
    const entryEnd = idStart + idSize + 8 + dataSize;
    if (entryEnd > end) return undefined;
    entries.push({ id: blob.toString('latin1', idStart, idStart + idSize), start: cursor, end: entryEnd });
    cursor = entryEnd;
  }
  return cursor === end ? entries : undefined;
}

function readSize(blob: Buffer, at: number, end: number): number | undefined {
  if (at + 8 > end) return undefined;
  const value = blob.readBigUInt64LE(at);
  return value > BigInt(end) ? undefined : Number(value);
}
