// The soak's small version (the full one is `npm run soak`, bench/soak.ts): a process and a zip
// function under 8 callers, with crashes, timeouts, mid-stream exits and oversize answers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../support/function-process.ts';
import { behavioursZip, FAULTS, runSoak, SMALL_PLAN } from './soak-harness.ts';

describe('emulator soak (small)', () => {
  let dir: string;
  let zip: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-soak-zip-'));
    zip = await behavioursZip(dir);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it(`answers ${SMALL_PLAN.invokes} invokes from ${SMALL_PLAN.callers} callers over a process and a zip function exactly once each, and leaks nothing`, {
    timeout: 180_000,
  }, async () => {
    const report = await runSoak(SMALL_PLAN, [
      // 4 environments each for 8 callers: invokes also wait for a free one.
      { name: 'process', source: { command: [process.execPath, fixture('behaviours.ts')] }, timeoutSeconds: 0.5, maxEnvironments: 4 },
      { name: 'zip', source: { zip }, timeoutSeconds: 0.5, maxEnvironments: 4 },
    ]);
    console.log(`soak: ${JSON.stringify({ ...report, plan: undefined })}`);
    expect(report.problems).toEqual([]);
    expect(report.answers).toBe(SMALL_PLAN.invokes);
    for (const fault of FAULTS) {
      expect(report.byKind[fault].sent, fault).toBeGreaterThan(4);
      expect(report.byKind[fault].right, fault).toBe(report.byKind[fault].sent);
    }
    expect(report.byKind.echo.right).toBe(report.byKind.echo.sent);
    // Each crash, timeout and mid-stream exit cost its environment: the next invoke started a fresh one.
    const lost = report.byKind.crash.sent + report.byKind.timeout.sent + report.byKind['stream-exit'].sent;
    expect(report.functions.reduce((sum, fn) => sum + fn.coldStarts, 0)).toBeGreaterThanOrEqual(lost);
    // The zip's task root existed during the soak, and is gone with the emulator.
    expect(report.tmpDirs).toEqual({ during: 1, after: 0 });
  });
});
