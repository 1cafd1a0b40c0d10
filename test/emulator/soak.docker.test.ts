// The soak's small version for a container image function (the process and zip functions are in
// soak.test.ts; the full soak is `npm run soak`): 8 callers, crashes, timeouts, mid-stream exits
// and oversize answers, each environment a container of the image.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionImage, docker, removeImage, requireDockerAndBase } from '../support/docker.ts';
import { fixture } from '../support/function-process.ts';
import { FAULTS, runSoak, SMALL_PLAN, type SoakPlan } from './soak-harness.ts';

/** Containers start slower than processes: fewer invokes, the same faults, each several times. */
const PLAN: SoakPlan = { ...SMALL_PLAN, invokes: 600, checkpoint: 200, every: { crash: 23, timeout: 41, 'stream-exit': 31, oversize: 37 } };

describe('emulator soak (small) with a container image function', () => {
  const image = `lambda-kit/test-soak-function:amd64-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    await requireDockerAndBase('amd64');
    await buildFunctionImage(fixture('behaviours.ts'), 'amd64', image);
  });
  afterAll(async () => removeImage(image));

  it(`answers ${PLAN.invokes} invokes from ${PLAN.callers} callers exactly once each, and leaves no container behind`, async () => {
    const report = await runSoak(PLAN, [
      { name: 'image', source: { image, platform: 'linux/amd64' }, timeoutSeconds: 1, maxEnvironments: 4 },
    ]);
    console.log(`soak: ${JSON.stringify({ ...report, plan: undefined })}`);
    expect(report.problems).toEqual([]);
    expect(report.answers).toBe(PLAN.invokes);
    for (const fault of FAULTS) {
      expect(report.byKind[fault].sent, fault).toBeGreaterThan(4);
      expect(report.byKind[fault].right, fault).toBe(report.byKind[fault].sent);
    }
    const lost = report.byKind.crash.sent + report.byKind.timeout.sent + report.byKind['stream-exit'].sent;
    expect(report.functions[0]!.coldStarts).toBeGreaterThanOrEqual(lost);
    // Each environment's /tmp (a directory of the emulator's) went with its container.
    expect(report.tmpDirs.after).toBe(0);
    expect(await docker.listContainers({ all: true, filters: { ancestor: [image] } })).toEqual([]);
  });
});
