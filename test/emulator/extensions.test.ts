import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { fixture } from '../support/function-process.ts';
import { waitFor } from '../support/wait.ts';

const probeScript = fileURLToPath(new URL('../fixtures/extensions/probe-extension.ts', import.meta.url));
const host: FunctionDefinition['source'] = { command: [process.execPath, fixture('extension-host.ts')] };

interface ReportEntry {
  name: string;
  kind: 'registered' | 'subscribed' | 'event' | 'done' | 'batch';
  status?: number;
  body?: any;
  event?: { eventType: string; requestId?: string; shutdownReason?: string; deadlineMs: number; [key: string]: unknown };
  requestId?: string;
  path?: string;
  records?: Array<{ time: string; type: string; record: any }>;
}

async function readReport(path: string): Promise<ReportEntry[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReportEntry);
}

const records = (entries: ReportEntry[]) => entries.flatMap((entry) => (entry.kind === 'batch' ? entry.records! : []));

async function invoke(emulator: Emulator, name: string, payload: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${emulator.endpoint}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    body: JSON.stringify(payload),
    headers,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: () => JSON.parse(text),
    requestId: response.headers.get('x-amzn-requestid')!,
  };
}

describe('emulator: Lambda extensions, Telemetry API and Logs API', () => {
  let dir: string;
  let emulator: Emulator;
  const lines: string[] = [];
  const reports = { observed: '', gated: '', buffered: '', logs: '', fragile: '' };
  let gateDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-extensions-'));
    // The directory that stands for /opt/extensions: one executable extension, and a file that is not one.
    const extensionsDir = join(dir, 'extensions');
    await mkdir(extensionsDir);
    await writeFile(join(extensionsDir, 'probe'), `#!/bin/sh\nexec "${process.execPath}" "${probeScript}" probe\n`);
    await chmod(join(extensionsDir, 'probe'), 0o755);
    await writeFile(join(extensionsDir, 'README'), 'not executable, so not an extension\n');
    gateDir = join(dir, 'gates');
    await mkdir(gateDir);
    for (const key of Object.keys(reports) as Array<keyof typeof reports>) reports[key] = join(dir, `${key}.jsonl`);
    const withProbe = (name: keyof typeof reports, environment: Record<string, string> = {}): FunctionDefinition => ({
      name,
      source: host,
      extensionsDir,
      maxEnvironments: 1,
      environment: { PROBE_REPORT: reports[name], ...environment },
    });
    emulator = await Emulator.start({
      functions: [
        withProbe('observed'),
        withProbe('gated', { PROBE_GATE_DIR: gateDir }),
        withProbe('buffered', { PROBE_BUFFERING: JSON.stringify({ maxItems: 1000, maxBytes: 1_048_576, timeoutMs: 30_000 }) }),
        withProbe('logs', { PROBE_API: 'logs' }),
        { ...withProbe('fragile', { PROBE_CRASH_ON_INVOKE: '1' }), timeoutSeconds: 10 },
        { name: 'internal', source: host, environment: { INTERNAL_EXTENSION: '1' } },
      ],
      log: (name, line) => lines.push(`${name}: ${line}`),
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the external extension, which registers, subscribes, and gets an INVOKE per invoke', async () => {
    const first = await invoke(emulator, 'observed', { action: 'log', marker: 'first' });
    const second = await invoke(emulator, 'observed', { action: 'log', marker: 'second' });
    expect(first.json()).toBe('logged');
    const report = await waitFor(
      () => readReport(reports.observed),
      (entries) => entries.filter((entry) => entry.kind === 'done').length === 2,
    );
    expect(report.find((entry) => entry.kind === 'registered')).toMatchObject({
      status: 200,
      body: { functionName: 'observed', functionVersion: '$LATEST', handler: '', accountId: '000000000000' },
    });
    expect(report.find((entry) => entry.kind === 'subscribed')).toMatchObject({ status: 200, body: 'OK' });
    const events = report.filter((entry) => entry.kind === 'event').map((entry) => entry.event!);
    expect(events.map((event) => event.requestId)).toEqual([first.requestId, second.requestId]);
    expect(events[0]).toMatchObject({
      eventType: 'INVOKE',
      deadlineMs: expect.any(Number),
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:observed',
      tracing: { type: 'X-Amzn-Trace-Id', value: expect.stringMatching(/^Root=1-/) },
    });
    expect(lines).toContain('observed: EXTENSION\tName: probe\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
  });

  it("delivers the function's log lines, the extension's, and platform records shaped as the Telemetry API's", async () => {
    const answer = await invoke(emulator, 'observed', { action: 'log', marker: 'telemetry' });
    const requestId = answer.requestId;
    const all = records(
      await waitFor(
        () => readReport(reports.observed),
        (entries) => records(entries).some((record) => record.type === 'platform.report' && record.record.requestId === requestId),
      ),
    );
    const report = await readReport(reports.observed);
    // Delivered by POST to the path the subscriber gave (sandbox.localdomain stands for 127.0.0.1).
    expect(report.find((entry) => entry.kind === 'batch')).toMatchObject({ method: 'POST', path: '/telemetry' });
    for (const record of all) expect(new Date(record.time).toISOString()).toBe(record.time);
    const types = new Set(all.map((record) => record.type));
    for (const type of [
      'platform.initStart',
      'platform.initRuntimeDone',
      'platform.initReport',
      'platform.extension',
      'platform.telemetrySubscription',
    ]) {
      expect(types).toContain(type);
    }
    expect(all.find((record) => record.type === 'platform.extension')!.record).toEqual({
      name: 'probe',
      state: 'Ready',
      events: ['INVOKE', 'SHUTDOWN'],
    });
    expect(all.find((record) => record.type === 'platform.telemetrySubscription')!.record).toEqual({
      name: 'probe',
      state: 'Subscribed',
      types: ['platform', 'function', 'extension'],
    });
    expect(all.some((record) => record.type === 'function' && record.record.includes('function says telemetry'))).toBe(true);
    expect(all.some((record) => record.type === 'extension' && record.record === `probe got INVOKE ${requestId}`)).toBe(true);
    const mine = (type: string) => all.find((record) => record.type === type && record.record.requestId === requestId)!.record;
    expect(mine('platform.start')).toMatchObject({ requestId, version: '$LATEST', tracing: { type: 'X-Amzn-Trace-Id' } });
    expect(mine('platform.runtimeDone')).toMatchObject({
      requestId,
      status: 'success',
      metrics: { durationMs: expect.any(Number), producedBytes: Buffer.byteLength('"logged"') },
    });
    const platformReport = mine('platform.report');
    expect(platformReport).toMatchObject({ requestId, status: 'success' });
    expect(Object.keys(platformReport.metrics).sort()).toEqual(['billedDurationMs', 'durationMs', 'maxMemoryUsedMB', 'memorySizeMB']);
    expect(platformReport.metrics.memorySizeMB).toBe(128);
    expect(platformReport.metrics.maxMemoryUsedMB).toBeGreaterThan(20);
    // Only the environment's first invoke carries the init duration.
    const reportsWithInit = all.filter((record) => record.type === 'platform.report' && 'initDurationMs' in record.record.metrics);
    expect(reportsWithInit).toHaveLength(1);
  });

  it('answers the caller as soon as the runtime answers, and REPORTs only after the extension called next', async () => {
    const answer = await invoke(emulator, 'gated', { action: 'log', marker: 'gated' });
    const requestId = answer.requestId;
    expect(answer.json()).toBe('logged');
    // The extension got the INVOKE and holds it until the gate file exists: no REPORT can have happened.
    const report = await waitFor(
      () => readReport(reports.gated),
      (entries) => entries.some((entry) => entry.kind === 'event' && entry.event!.requestId === requestId),
    );
    expect(report.some((entry) => entry.kind === 'done')).toBe(false);
    expect(lines.some((line) => line.includes(`REPORT RequestId: ${requestId}`))).toBe(false);
    expect(lines.some((line) => line.includes(`END RequestId: ${requestId}`))).toBe(false);
    await writeFile(join(gateDir, requestId), '');
    const reportLine = await waitFor(
      () => lines.find((line) => line.startsWith(`gated: REPORT RequestId: ${requestId}`)),
      (line) => line !== undefined,
    );
    expect(reportLine).toMatch(/Duration: \d+\.\d\d ms/);
    expect((await readReport(reports.gated)).some((entry) => entry.kind === 'done' && entry.requestId === requestId)).toBe(true);
  });

  it('runs an internal extension registered from inside the runtime process, with AWS answers to wrong requests', async () => {
    const checks = (await invoke(emulator, 'internal', { action: 'checks' })).json();
    expect(checks.registration).toMatchObject({ status: 200, body: { functionName: 'internal', functionVersion: '$LATEST' } });
    expect(checks.registration.body.accountId).toBeUndefined();
    expect(checks.registration.identifier).toMatch(/^[0-9a-f-]{36}$/);
    // Only external extensions can register for SHUTDOWN.
    expect(checks.shutdownRegistration).toMatchObject({
      status: 403,
      body: { errorType: 'Extension.InvalidEventType', errorMessage: 'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension' },
    });
    expect(checks.unknownIdentifier).toMatchObject({
      status: 403,
      body: { errorType: 'Extension.UnknownExtensionIdentifier', errorMessage: 'Unknown extension 00000000-0000-4000-8000-000000000000' },
    });
    expect(checks.malformedIdentifier).toMatchObject({ status: 403, body: { errorType: 'Extension.InvalidExtensionIdentifier' } });
    expect(checks.missingIdentifier).toMatchObject({ status: 403, body: { errorType: 'Extension.MissingExtensionIdentifier' } });
    const answer = await invoke(emulator, 'internal', { action: 'echo' });
    await waitFor(
      () => lines,
      (all) => all.some((line) => line.includes(`internal-probe got INVOKE ${answer.requestId}`)),
    );
    const late = (await invoke(emulator, 'internal', { action: 'register-late' })).json();
    expect(late).toMatchObject({
      status: 403,
      body: { errorType: 'Extension.RegistrationClosed', errorMessage: 'Extension registration closed already' },
    });
  });

  it('honours buffering: with a long timeoutMs, batches go out when maxItems records have gathered', async () => {
    await invoke(emulator, 'buffered', { action: 'many-logs', lines: 2500 });
    const batches = (
      await waitFor(
        () => readReport(reports.buffered),
        (entries) => entries.filter((entry) => entry.kind === 'batch').length >= 2,
      )
    ).filter((entry) => entry.kind === 'batch');
    // timeoutMs is 30 s: only maxItems could have sent these.
    expect(batches.slice(0, 2).map((batch) => batch.records!.length)).toEqual([1000, 1000]);
  });

  it('delivers through the Logs API in its older shapes', async () => {
    const answer = await invoke(emulator, 'logs', { action: 'log', marker: 'logs-api' });
    const requestId = answer.requestId;
    const all = records(
      await waitFor(
        () => readReport(reports.logs),
        (entries) => records(entries).some((record) => record.type === 'platform.report' && record.record.requestId === requestId),
      ),
    );
    expect(all.some((record) => record.type === 'platform.initStart')).toBe(false);
    expect(all.find((record) => record.type === 'platform.start' && record.record.requestId === requestId)!.record).toEqual({
      requestId,
      version: '$LATEST',
    });
    expect(all.find((record) => record.type === 'platform.end' && record.record.requestId === requestId)).toBeDefined();
    expect(all.find((record) => record.type === 'platform.runtimeDone' && record.record.requestId === requestId)!.record).toEqual({
      requestId,
      status: 'success',
    });
    expect(all.find((record) => record.type === 'platform.logsSubscription')!.record).toMatchObject({ name: 'probe', state: 'Subscribed' });
    expect(all.some((record) => record.type === 'function' && record.record.includes('function says logs-api'))).toBe(true);
  });

  it('fails the invoke with Extension.Crash when an extension dies, and starts a fresh environment', async () => {
    // The function never answers: only the extension's exit can end this invoke before the 10 s timeout.
    const answer = await invoke(emulator, 'fragile', { action: 'hang' });
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toMatchObject({
      errorType: 'Extension.Crash',
      errorMessage: expect.stringMatching(/Extension probe exited: exit status 3/),
    });
    expect(emulator.pool('fragile')!.environmentCount).toBe(0);
  });

  it('sends SHUTDOWN (spindown) to the external extensions at close, after flushing what was buffered', async () => {
    await emulator.close();
    const observed = await readReport(reports.observed);
    const shutdown = observed.filter((entry) => entry.kind === 'event' && entry.event!.eventType === 'SHUTDOWN');
    expect(shutdown).toHaveLength(1);
    expect(shutdown[0]!.event).toEqual({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: expect.any(Number) });
    const buffered = await readReport(reports.buffered);
    const shutdownAt = buffered.findIndex((entry) => entry.kind === 'event' && entry.event!.eventType === 'SHUTDOWN');
    expect(shutdownAt).toBeGreaterThan(0);
    // All 2,500 lines reached the subscriber, the last ones flushed before SHUTDOWN.
    const lineRecords = records(buffered.slice(0, shutdownAt)).filter(
      (record) => record.type === 'function' && /\tline \d+ x+$/.test(record.record),
    );
    expect(lineRecords).toHaveLength(2500);
  });
});
