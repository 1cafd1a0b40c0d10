import { describe, expect, it } from 'vitest';
import type { RegisteredExtension } from '../../../src/emulator/apis/extensions-api.ts';
import { PlatformLog } from '../../../src/emulator/environment/platform-log.ts';

const tracing = { type: 'X-Amzn-Trace-Id', value: 'Root=1-00000000-000000000000000000000000;Sampled=0' } as const;
const probe: RegisteredExtension = { id: '1', name: 'probe', kind: 'external', events: new Set(['INVOKE', 'SHUTDOWN']) };

/** A PlatformLog writing to arrays: the CloudWatch lines and the Telemetry API records. */
function recording() {
  const lines: string[] = [];
  const records: Array<{ type: string; record: any }> = [];
  const log = new PlatformLog((line) => lines.push(line), { publish: (type, record) => records.push({ type, record }) });
  return { log, lines, records };
}

describe('PlatformLog: one call writes the CloudWatch line and its Telemetry API record', () => {
  it('START: the line and platform.start', () => {
    const { log, lines, records } = recording();
    log.start('r-1', '$LATEST', tracing);
    expect(lines).toEqual(['START RequestId: r-1 Version: $LATEST']);
    expect(records).toEqual([{ type: 'platform.start', record: { requestId: 'r-1', version: '$LATEST', tracing } }]);
  });

  it('END: the line and platform.end', () => {
    const { log, lines, records } = recording();
    log.end('r-1');
    expect(lines).toEqual(['END RequestId: r-1']);
    expect(records).toEqual([{ type: 'platform.end', record: { requestId: 'r-1' } }]);
  });

  it('REPORT: the line and platform.report, with the same figures', () => {
    const { log, lines, records } = recording();
    const report = { durationMs: 12.3456, billedDurationMs: 30, memorySizeMb: 256, maxMemoryUsedMb: 41, initDurationMs: 17.5 };
    log.report('r-1', report, { status: 'success' }, tracing);
    expect(lines).toEqual([
      'REPORT RequestId: r-1\tDuration: 12.35 ms\tBilled Duration: 30 ms\tMemory Size: 256 MB\tMax Memory Used: 41 MB\tInit Duration: 17.50 ms\t',
    ]);
    expect(records).toEqual([
      {
        type: 'platform.report',
        record: {
          requestId: 'r-1',
          status: 'success',
          metrics: { durationMs: 12.346, billedDurationMs: 30, memorySizeMB: 256, maxMemoryUsedMB: 41, initDurationMs: 17.5 },
          tracing,
        },
      },
    ]);
  });

  it('a failed init: INIT_REPORT, and init runtimeDone and report carrying the same status and error type', () => {
    const { log, lines, records } = recording();
    log.initFailed(20, 'error', 'Runtime.ExitError');
    expect(lines).toEqual(['INIT_REPORT Init Duration: 20.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError']);
    const init = { initializationType: 'on-demand', phase: 'init', status: 'error', errorType: 'Runtime.ExitError' };
    expect(records).toEqual([
      { type: 'platform.initRuntimeDone', record: init },
      { type: 'platform.initReport', record: { ...init, metrics: { durationMs: 20 } } },
    ]);
  });

  it('a ready init: a line per extension, and init runtimeDone and report', () => {
    const { log, lines, records } = recording();
    log.initReady(5, [probe]);
    expect(lines).toEqual(['EXTENSION\tName: probe\tState: Ready\tEvents: [INVOKE, SHUTDOWN]']);
    expect(records.map((record) => [record.type, record.record.status])).toEqual([
      ['platform.initRuntimeDone', 'success'],
      ['platform.initReport', 'success'],
    ]);
  });

  it("the function's and an extension's output: the line, and a function or extension record of it", () => {
    const { log, lines, records } = recording();
    log.functionLine('from the handler');
    log.extensionLine('from the extension');
    expect(lines).toEqual(['from the handler', 'from the extension']);
    expect(records).toEqual([
      { type: 'function', record: 'from the handler' },
      { type: 'extension', record: 'from the extension' },
    ]);
  });

  it('writes the happenings that have one side only to that side', () => {
    const { log, lines, records } = recording();
    log.initStart();
    log.extensionRegistered(probe);
    log.runtimeDone('r-1', { status: 'timeout' }, 1000, 0, tracing);
    expect(lines).toEqual([]);
    expect(records.map((record) => record.type)).toEqual(['platform.initStart', 'platform.extension', 'platform.runtimeDone']);
    records.length = 0;
    log.timedOut('r-1', 1);
    log.crashed('r-1', 'Runtime.ExitError', 'Runtime exited with error: exit status 1');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z r-1 Task timed out after 1\.00 seconds$/);
    expect(lines[1]).toBe('RequestId: r-1 Error: Runtime exited with error: exit status 1\nRuntime.ExitError');
    expect(records).toEqual([]);
  });

  it('copies its lines into each capture until the capture is released', () => {
    const { log } = recording();
    const invocation = log.capture();
    log.start('r-1', '$LATEST', tracing);
    log.functionLine('inside');
    log.release(invocation);
    log.end('r-1');
    expect(invocation).toEqual(['START RequestId: r-1 Version: $LATEST', 'inside']);
  });
});
