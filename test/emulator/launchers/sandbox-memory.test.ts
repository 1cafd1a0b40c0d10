// Max Memory Used, measured: a function that holds N MB reports at least N MB,
// when it answers, when it times out and when it crashes (the REPORT comes
// after the environment is gone, and must not say 0 MB).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { PeakMeter, residentPeak, treeResidentPeak } from '../../../src/emulator/launchers/sandbox-memory.ts';
import { waitFor } from '../../support/wait.ts';
import { zipTestFunction } from '../../support/zip-function.ts';

const VIEW = fileURLToPath(new URL('../../fixtures/functions/sandbox-view.ts', import.meta.url));
const HOLD_MB = 64;

const reportedMb = (logs: string[]) => Number(/Max Memory Used: (\d+) MB/.exec(logs.find((line) => line.startsWith('REPORT')) ?? '')?.[1]);

describe('Max Memory Used of a zip function', () => {
  let dir: string;
  let emulator: Emulator;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-memory-test-'));
    const zip = join(dir, 'view.zip');
    await zipTestFunction(VIEW, zip);
    emulator = await Emulator.start({
      functions: [
        { name: 'holds', source: { zip }, maxEnvironments: 1 },
        { name: 'fails', source: { zip }, maxEnvironments: 1, timeoutSeconds: 1 },
      ],
      log: () => {},
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const invoke = (name: string, event: object) => emulator.invoke(name, { payload: Buffer.from(JSON.stringify(event)) });

  it('reports at least what the function holds, on top of what it used before', async () => {
    const before = await invoke('holds', {});
    const baseline = before.report.maxMemoryUsedMb!;
    expect(baseline).toBeGreaterThan(10);
    const held = await invoke('holds', { allocateMb: HOLD_MB });
    expect(held.functionError, held.body.toString()).toBe(false);
    expect(held.report.maxMemoryUsedMb).toBeGreaterThanOrEqual(baseline + HOLD_MB - 4);
    expect(reportedMb(held.logs)).toBe(held.report.maxMemoryUsedMb);
  });

  it('reports it after a timeout, measured before the environment is killed', async () => {
    const result = await invoke('fails', { allocateMb: HOLD_MB, end: 'hang' });
    expect(JSON.parse(result.body.toString())).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(result.report.maxMemoryUsedMb).toBeGreaterThanOrEqual(HOLD_MB);
    expect(reportedMb(result.logs)).toBeGreaterThanOrEqual(HOLD_MB);
  });

  it('reports it after a crash, from the last sample of the process that is gone', async () => {
    const result = await invoke('fails', { allocateMb: HOLD_MB, end: 'exit' });
    expect(JSON.parse(result.body.toString())).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(result.report.maxMemoryUsedMb).toBeGreaterThanOrEqual(HOLD_MB);
    expect(reportedMb(result.logs)).toBeGreaterThanOrEqual(HOLD_MB);
  });
});

describe('sandbox memory readings', () => {
  it("sums VmHWM over a process's tree, and keeps the peak once the tree is gone", async () => {
    // sh starts node, which holds 48 MiB, then both wait to be killed.
    const holder = `const b = Buffer.alloc(48 * 1024 * 1024, 1); console.log('ready'); setTimeout(() => b, 60000)`;
    const root = spawn('sh', ['-c', `"${process.execPath}" -e "$HOLDER"; sleep 60`], {
      detached: true,
      env: { ...process.env, HOLDER: holder },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    root.stdout.on('data', (data: Buffer) => (output += data.toString()));
    const meter = new PeakMeter(() => treeResidentPeak([root.pid!]));
    try {
      await waitFor(
        () => output,
        (text) => text.includes('ready'),
        20_000,
      );
      // The shell alone is small: the figure is its child's.
      expect(residentPeak(root.pid!)).toBeLessThan(16 * 1024 * 1024);
      expect(meter.sample()).toBeGreaterThan(48 * 1024 * 1024);
    } finally {
      process.kill(-root.pid!, 'SIGKILL');
    }
    await new Promise((resolve) => root.once('close', resolve));
    const last = meter.peak;
    meter.stop();
    expect(residentPeak(root.pid!)).toBeUndefined();
    expect(meter.sample()).toBe(last);
    meter.raise(1);
    expect(meter.peak).toBe(last);
  });
});
