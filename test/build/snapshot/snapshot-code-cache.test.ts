import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dropLoadedBuiltinCaches, readSnapshotCodeCache } from '../../../src/build/snapshot/snapshot-code-cache.ts';

const u32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
};
const u64 = (value: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(value));
  return bytes;
};
const str = (text: string) => Buffer.concat([u64(Buffer.byteLength(text)), Buffer.from(text)]);

/** A snapshot laid out as Node's: magic, metadata, an opaque middle (V8's blob, Node's tables), then the code cache. */
function snapshot(version: string, caches: Array<[string, Buffer]>, middle = randomBytes(4096)): Buffer {
  return Buffer.concat([
    u32(0x0143da19),
    Buffer.from([1]),
    str(version),
    str('x64'),
    str('linux'),
    u32(0),
    middle,
    u64(caches.length),
    ...caches.map(([id, data]) => Buffer.concat([str(id), u64(data.length), data])),
  ]);
}

/** A SEA blob around it: its own header and main path before, other resources after. */
function seaBlob(inner: Buffer, after = Buffer.from('assets that follow')): Buffer {
  return Buffer.concat([u32(0x143da20), u32(0b11), Buffer.from([0]), str('snapshot-main.cjs'), u64(inner.length), inner, after]);
}

const CACHES: Array<[string, Buffer]> = [
  ['fs', randomBytes(300)],
  ['https', randomBytes(120)],
  ['internal/errors', randomBytes(500)],
  ['_http_client', randomBytes(80)],
];

describe('the code cache of a snapshot in a SEA blob', () => {
  it("is found at the snapshot's end, with the Node version of its metadata", () => {
    const found = readSnapshotCodeCache(seaBlob(snapshot('24.21.0', CACHES)));
    expect(found?.nodeVersion).toBe('24.21.0');
    expect(found?.entries.map((entry) => entry.id)).toEqual(['fs', 'https', 'internal/errors', '_http_client']);
    expect(readSnapshotCodeCache(seaBlob(snapshot('24.21.0', CACHES)), '24.21.0')).toBeDefined();
  });

  it('drops the caches of the built-ins the heap holds and keeps the rest, byte for byte, with every size around them right', () => {
    const after = Buffer.from('the exec argv that follows');
    const blob = seaBlob(snapshot('24.21.0', CACHES), after);
    const trim = dropLoadedBuiltinCaches(blob, '24.21.0', new Set(['fs', 'internal/errors', 'events']));
    expect(trim).toMatchObject({ kept: 2, dropped: 2, droppedBytes: 8 + 2 + 8 + 300 + (8 + 15 + 8 + 500) });
    expect(trim!.blob.length).toBe(blob.length - trim!.droppedBytes);
    const found = readSnapshotCodeCache(trim!.blob)!;
    expect(found.entries.map((entry) => entry.id)).toEqual(['https', '_http_client']);
    const https = found.entries[0]!;
    expect(trim!.blob.subarray(https.end - 120, https.end)).toEqual(CACHES[1]![1]);
    // The SEA header before and the resources after are untouched; the snapshot's size says where they start.
    expect(trim!.blob.subarray(0, found.snapshotStart - 8)).toEqual(blob.subarray(0, found.snapshotStart - 8));
    expect(Number(trim!.blob.readBigUInt64LE(found.snapshotStart - 8))).toBe(found.snapshotEnd - found.snapshotStart);
    expect(trim!.blob.subarray(found.snapshotEnd)).toEqual(after);
  });

  it('keeps every cache when the heap holds none of their built-ins', () => {
    const blob = seaBlob(snapshot('24.21.0', CACHES));
    const trim = dropLoadedBuiltinCaches(blob, '24.21.0', new Set(['events']));
    expect(trim).toMatchObject({ kept: 4, dropped: 0, droppedBytes: 0 });
    expect(trim!.blob).toEqual(blob);
  });

  it("leaves a blob alone that is not laid out as that Node's: another version, a cache that overruns the snapshot, no snapshot", () => {
    const loaded = new Set(['fs']);
    expect(dropLoadedBuiltinCaches(seaBlob(snapshot('22.12.0', CACHES)), '24.21.0', loaded)).toBeUndefined();
    const overrun = snapshot('24.21.0', CACHES);
    overrun.writeBigUInt64LE(81n, overrun.length - 80 - 8);
    expect(dropLoadedBuiltinCaches(seaBlob(overrun), '24.21.0', loaded)).toBeUndefined();
    expect(dropLoadedBuiltinCaches(seaBlob(Buffer.from('console.log("a SEA of a script")')), '24.21.0', loaded)).toBeUndefined();
    // Two snapshots that both read right: which one the bootstrap takes cannot be told.
    const twice = Buffer.concat([seaBlob(snapshot('24.21.0', CACHES)), seaBlob(snapshot('24.21.0', CACHES))]);
    expect(readSnapshotCodeCache(twice)).toBeUndefined();
    expect(dropLoadedBuiltinCaches(twice, '24.21.0', loaded)).toBeUndefined();
  });
});
