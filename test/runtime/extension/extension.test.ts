import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type FunctionDefinition } from '../../../src/emulator/emulator.ts';
import { invokeHttp } from '../../support/aws-clients.ts';
import { fixture } from '../../support/function-process.ts';
import { waitFor } from '../../support/wait.ts';

const extensionScript = fileURLToPath(new URL('../../fixtures/extensions/kit-extension.ts', import.meta.url));

interface Entry {
  kind: 'registered' | 'event' | 'batch' | 'exited-loop';
  registration?: Record<string, unknown>;
  event?: { eventType: string; requestId?: string; shutdownReason?: string };
  records?: Array<{ type: string; time: string; record: any }>;
}

async function readReport(path: string): Promise<Entry[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Entry);
}
const eventsOf = (entries: Entry[], type: string) =>
  entries.filter((entry) => entry.kind === 'event' && entry.event!.eventType === type).map((entry) => entry.event!);
const recordsOf = (entries: Entry[]) => entries.flatMap((entry) => entry.records ?? []);
const hasReportFor = (requestId: string) => (entries: Entry[]) =>
  recordsOf(entries).some((record) => record.type === 'platform.report' && record.record.requestId === requestId);

describe('lambda-kit/extension under the emulator: one external and one internal extension', () => {
  let dir: string;
  let emulator: Emulator;
  const lines: string[] = [];
  const report = (name: string) => join(dir, `${name}.jsonl`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-extension-'));
    // Stands for /opt/extensions: Lambda starts each executable there as an external extension.
    const extensionsDir = join(dir, 'extensions');
    await mkdir(extensionsDir);
    await writeFile(join(extensionsDir, 'kit-external'), `#!/bin/sh\nexec "${process.execPath}" "${extensionScript}"\n`);
    await chmod(join(extensionsDir, 'kit-external'), 0o755);
    const external = (name: string, fail?: string, environment: Record<string, string> = {}): FunctionDefinition => ({
      name,
      source: { command: [process.execPath, fixture('extension-host.ts')] },
      extensionsDir,
      maxEnvironments: 1,
      environment: { KIT_REPORT: report(name), ...(fail && { KIT_FAIL: fail }), ...environment },
    });
    emulator = await Emulator.start({
      functions: [
        external('external'),
        external('init-fails', 'init'),
        external('invoke-fails', 'invoke'),
        external('processor-throws', 'processor'),
        external('processor-slow', 'slow-processor'),
        external('logs-api', undefined, { KIT_API: 'logs' }),
        {
          name: 'internal',
          source: { command: [process.execPath, fixture('internal-extension.ts')] },
          environment: { KIT_REPORT: report('internal') },
        },
        { name: 'graceful', source: { command: [process.execPath, fixture('behaviours.ts')] } },
      ],
      log: (name, line) => lines.push(`${name}: ${line}`),
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('external: registers (with the accountId feature), gets an INVOKE per invoke, and receives log lines and platform.report', async () => {
    const first = await invokeHttp(emulator.endpoint, 'external', { action: 'log', marker: 'one' });
    const second = await invokeHttp(emulator.endpoint, 'external', { action: 'log', marker: 'two' });
    const ids = [first, second].map((answer) => answer.headers.get('x-amzn-requestid')!);
    const entries = await waitFor(
      () => readReport(report('external')),
      (all) => ids.every((id) => hasReportFor(id)(all)),
    );
    expect(entries[0]).toMatchObject({
      kind: 'registered',
      registration: { functionName: 'external', functionVersion: '$LATEST', accountId: '000000000000', extensionId: expect.any(String) },
    });
    expect(eventsOf(entries, 'INVOKE').map((event) => event.requestId)).toEqual(ids);
    const records = recordsOf(entries);
    expect(records.filter((record) => record.type === 'function').map((record) => record.record)).toEqual(
      expect.arrayContaining([expect.stringContaining('function says one'), expect.stringContaining('function says two')]),
    );
    const reportRecord = records.find((record) => record.type === 'platform.report' && record.record.requestId === ids[0])!;
    expect(reportRecord.record).toMatchObject({
      status: 'success',
      metrics: { durationMs: expect.any(Number), billedDurationMs: expect.any(Number), maxMemoryUsedMB: expect.any(Number) },
    });
    expect(lines).toContain('external: EXTENSION\tName: kit-external\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
  });

  it('internal: registered from inside the function during init, gets an INVOKE per invoke and the telemetry', async () => {
    const answers = [
      await invokeHttp(emulator.endpoint, 'internal', { say: 'hi' }),
      await invokeHttp(emulator.endpoint, 'internal', { say: 'again' }),
    ];
    expect(answers.map((answer) => answer.json())).toEqual(['ok', 'ok']);
    const ids = answers.map((answer) => answer.headers.get('x-amzn-requestid')!);
    const entries = await waitFor(
      () => readReport(report('internal')),
      (all) => ids.every((id) => hasReportFor(id)(all)),
    );
    expect(entries[0]).toMatchObject({ kind: 'registered', registration: { functionName: 'internal' } });
    expect(eventsOf(entries, 'INVOKE').map((event) => event.requestId)).toEqual(ids);
    expect(recordsOf(entries).some((record) => record.type === 'function' && String(record.record).includes('function says again'))).toBe(
      true,
    );
    expect(lines).toContain('internal: EXTENSION\tName: kit-internal\tState: Ready\tEvents: [INVOKE]');
  });

  it('the older Logs API works the same way: log lines and platform.report reach the processor', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'logs-api', { action: 'log', marker: 'via-logs-api' });
    const requestId = answer.headers.get('x-amzn-requestid')!;
    const entries = await waitFor(() => readReport(report('logs-api')), hasReportFor(requestId));
    expect(
      recordsOf(entries).some((record) => record.type === 'function' && String(record.record).includes('function says via-logs-api')),
    ).toBe(true);
    expect(lines).toContain('logs-api: EXTENSION\tName: kit-external\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
  });

  it('graceful shutdown: onShutdown registers the no-op internal extension, so SIGTERM comes and the hooks run', async () => {
    expect((await invokeHttp(emulator.endpoint, 'graceful', { action: 'echo' })).status).toBe(200);
    expect(lines).toContain('graceful: EXTENSION\tName: lambda-kit-graceful-shutdown\tState: Ready\tEvents: []');
  });

  it('an onInit that throws is reported on init/error: the invoke fails with Extension.InitError', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'init-fails', { action: 'log', marker: 'x' });
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toMatchObject({
      errorType: 'Extension.InitError',
      errorMessage: 'Extension kit-external reported an init error',
    });
  });

  it('an onInvoke that throws is reported on exit/error and ends the extension; the environment is replaced', async () => {
    const first = await invokeHttp(emulator.endpoint, 'invoke-fails', { action: 'log', marker: 'x' });
    // Whether the caller gets the function's answer or Extension.Crash depends on which ends first, as on Lambda.
    if (first.headers.get('x-amz-function-error')) expect(first.json().errorType).toMatch(/^Extension\./);
    await waitFor(() => lines.some((line) => line.startsWith('invoke-fails:') && line.includes('bad invoke handling')), Boolean);
    await waitFor(
      () => emulator.pool('invoke-fails')!.environmentCount,
      (count) => count === 0,
    );
    await invokeHttp(emulator.endpoint, 'invoke-fails', { action: 'log', marker: 'y' });
    // A fresh environment: the extension started and registered again.
    const entries = await readReport(report('invoke-fails'));
    expect(entries.filter((entry) => entry.kind === 'registered')).toHaveLength(2);
  });

  it('a telemetry processor that throws loses its batches, never the extension or the function', async () => {
    for (const marker of ['a', 'b', 'c']) {
      const answer = await invokeHttp(emulator.endpoint, 'processor-throws', { action: 'log', marker });
      expect(answer.json()).toBe('logged');
    }
    const entries = await waitFor(
      () => readReport(report('processor-throws')),
      (all) => eventsOf(all, 'INVOKE').length === 3,
    );
    expect(entries.filter((entry) => entry.kind === 'batch')).toEqual([]);
    await waitFor(
      () => lines.filter((line) => line.startsWith('processor-throws:') && line.includes('processor broke')).length,
      (count) => count >= 2,
    );
  });

  it('a slow telemetry processor does not hold up invocations: batches are acknowledged before processing', async () => {
    const started = Date.now();
    for (const marker of ['a', 'b', 'c']) await invokeHttp(emulator.endpoint, 'processor-slow', { action: 'log', marker });
    // Each batch takes the processor 3 s; had Lambda's delivery waited for it, the second invoke would have too.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(eventsOf(await readReport(report('processor-slow')), 'INVOKE')).toHaveLength(3);
  });

  it('at close: SHUTDOWN (spindown) reaches the external extension, whose loop then ends; the internal one gets none; shutdown hooks run', async () => {
    await emulator.close();
    const external = await readReport(report('external'));
    expect(eventsOf(external, 'SHUTDOWN')).toEqual([{ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: expect.any(Number) }]);
    expect(external.at(-1)).toEqual({ kind: 'exited-loop' });
    expect(eventsOf(await readReport(report('internal')), 'SHUTDOWN')).toEqual([]);
    expect(lines.some((line) => line.startsWith('graceful:') && line.includes('shutdown hook ran on SIGTERM'))).toBe(true);
  });
});
