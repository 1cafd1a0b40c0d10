import { afterEach, describe, expect, it } from 'vitest';
import { TelemetryListener, isRecordOf, parseTelemetryBatch, type TelemetryRecord } from '../../../runtime/extension/index.ts';

const listeners: TelemetryListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

async function start(
  options: Partial<Parameters<typeof TelemetryListener.start>[0]> & {
    processor: Parameters<typeof TelemetryListener.start>[0]['processor'];
  },
) {
  const errors: unknown[] = [];
  const listener = await TelemetryListener.start({ host: '127.0.0.1', onError: (error) => errors.push(error), ...options });
  listeners.push(listener);
  return { listener, errors };
}

/** What Lambda does: POST a JSON array of records to the subscription's URI (sandbox.localdomain is 127.0.0.1 here). */
const deliver = (listener: TelemetryListener, body: unknown) =>
  fetch(`http://127.0.0.1:${listener.port}/telemetry`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

const record = (n: number): TelemetryRecord => ({ time: new Date(0).toISOString(), type: 'function', record: `line ${n}` });

describe('TelemetryListener', () => {
  it('names itself as Lambda wants it: http://sandbox.localdomain:<port>/telemetry', async () => {
    const { listener } = await start({ processor: () => {} });
    expect(listener.uri).toBe(`http://sandbox.localdomain:${listener.port}/telemetry`);
  });

  it('answers a batch before the processor is done with it, and hands batches over in order, one at a time', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const { listener } = await start({
      processor: async (records) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gate;
        seen.push(...records.map((entry) => String(entry.record)));
        running--;
      },
    });
    // Both answered 200 while the processor is still held on the first batch.
    expect((await deliver(listener, [record(1)])).status).toBe(200);
    expect((await deliver(listener, [record(2), record(3)])).status).toBe(200);
    expect(seen).toEqual([]);
    release();
    await listener.settle(0, Date.now() + 2000);
    expect(seen).toEqual(['line 1', 'line 2', 'line 3']);
    expect(maxRunning).toBe(1);
    expect(listener.stats).toMatchObject({ batches: 2, records: 3, droppedBatches: 0, processorFailures: 0 });
  });

  it('goes on after a processor that throws or rejects, counting and reporting each failure', async () => {
    const processed: number[] = [];
    let calls = 0;
    const { listener, errors } = await start({
      processor: async (records) => {
        calls++;
        if (calls === 1) throw new Error('sync-ish failure');
        if (calls === 2) return Promise.reject(new Error('async failure'));
        processed.push(records.length);
      },
    });
    for (let n = 0; n < 3; n++) expect((await deliver(listener, [record(n)])).status).toBe(200);
    await listener.settle(0, Date.now() + 2000);
    expect(processed).toEqual([1]);
    expect(listener.stats.processorFailures).toBe(2);
    expect(errors.map((error) => (error as Error).message)).toEqual(['sync-ish failure', 'async failure']);
  });

  it('drops the oldest queued batches when the processor falls behind, and says so', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    const { listener, errors } = await start({
      maxQueuedBatches: 2,
      processor: async (records) => {
        await gate;
        seen.push(String(records[0]!.record));
      },
    });
    // Batch 0 is with the processor; 1..4 queue behind it, two at most.
    for (let n = 0; n < 5; n++) await deliver(listener, [record(n)]);
    release();
    await listener.settle(0, Date.now() + 2000);
    expect(seen).toEqual(['line 0', 'line 3', 'line 4']);
    expect(listener.stats.droppedBatches).toBe(2);
    expect(errors.map((error) => (error as { code: string }).code)).toEqual(['LK_EXTENSION_BAD_BATCH', 'LK_EXTENSION_BAD_BATCH']);
  });

  it('answers 400 to a body that is no batch, and keeps listening', async () => {
    const batches: TelemetryRecord[][] = [];
    const { listener, errors } = await start({ processor: (records) => void batches.push(records) });
    expect((await deliver(listener, '{not json')).status).toBe(400);
    expect((await deliver(listener, { not: 'an array' })).status).toBe(400);
    expect((await deliver(listener, [record(1)])).status).toBe(200);
    await listener.settle(0, Date.now() + 2000);
    expect(batches).toHaveLength(1);
    expect(listener.stats.badBatches).toBe(2);
    expect((errors[0] as Error).message).toMatch(/could not be read/);
  });
});

describe('parseTelemetryBatch and isRecordOf', () => {
  it('keeps records of every type, types the known ones, and counts entries that are no records', () => {
    const { records, skipped } = parseTelemetryBatch(
      JSON.stringify([
        {
          time: '2026-11-24T10:00:00.000Z',
          type: 'platform.report',
          record: {
            requestId: 'r1',
            status: 'success',
            metrics: { durationMs: 1.5, billedDurationMs: 2, memorySizeMB: 128, maxMemoryUsedMB: 40 },
          },
        },
        { time: '2026-11-24T10:00:00.001Z', type: 'function', record: { level: 'INFO', message: 'json log' } },
        { time: '2026-11-24T10:00:00.002Z', type: 'platform.someday', record: {} },
        { type: 'no time' },
        42,
      ]),
    );
    expect(records.map((entry) => entry.type)).toEqual(['platform.report', 'function', 'platform.someday']);
    expect(skipped).toBe(2);
    const reports = records.filter(isRecordOf('platform.report'));
    expect(reports[0]!.record.metrics.maxMemoryUsedMB).toBe(40);
  });

  it('refuses a body that is not a JSON array', () => {
    expect(() => parseTelemetryBatch('{}')).toThrow(/JSON array, got object/);
  });
});
