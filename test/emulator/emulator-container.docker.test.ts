// The emulator running functions as container images (dockerode, host network),
// with the runtime loop inside: success, error, timeout, memory limit, clean-up.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.ts';
import { ARCHES, buildFunctionImage, docker, removeImage, requireDockerAndBase } from '../support/docker.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/functions/behaviours.ts', import.meta.url));

async function emulatorContainers(): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: ['org.lambda-kit.emulator=environment'] } });
  return containers.length;
}

describe.each(ARCHES)('emulator with a linux/%s container image', (arch) => {
  const image = `lambda-kit/test-emulator-function:${arch}-${randomUUID().slice(0, 8)}`;
  const lines: string[] = [];
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    await requireDockerAndBase(arch);
    await buildFunctionImage(FIXTURE, arch, image);
    emulator = await Emulator.start({
      functions: [
        // Generous: arm64 runs under qemu.
        { name: 'boxed', source: { image, platform: `linux/${arch}` }, timeoutSeconds: 30, memoryMb: 128, maxEnvironments: 1 },
        // The timeout clock starts once init is done, so qemu's slow start does not count against it.
        { name: 'short', source: { image, platform: `linux/${arch}` }, timeoutSeconds: 2, memoryMb: 128, maxEnvironments: 1 },
      ],
      log: (_name, line) => lines.push(line),
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await removeImage(image);
  });

  const invoke = (payload: unknown, name = 'boxed') => emulator!.invoke(name, { payload: Buffer.from(JSON.stringify(payload)) });

  it('answers from inside the container, with the environment Lambda sets', async () => {
    const result = await invoke({ action: 'context' });
    expect(result.functionError, result.body.toString()).toBe(false);
    expect(JSON.parse(result.body.toString())).toMatchObject({
      functionName: 'boxed',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/boxed',
    });
    // Measured by Docker, not made up.
    expect(result.report.maxMemoryUsedMb).toBeGreaterThan(10);
    expect(lines.some((line) => line.startsWith(`REPORT RequestId: ${result.requestId}`))).toBe(true);
  });

  it('reports a handler error', async () => {
    const result = await invoke({ action: 'throw-error' });
    expect(result.functionError).toBe(true);
    expect(JSON.parse(result.body.toString())).toMatchObject({ errorType: 'ValidationError' });
  });

  it('kills a timed-out container and starts a fresh one for the next invoke', async () => {
    const result = await invoke({ action: 'hang' }, 'short');
    expect(JSON.parse(result.body.toString())).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const next = await invoke({ action: 'echo', n: 1 }, 'short');
    expect(JSON.parse(next.body.toString())).toEqual({ action: 'echo', n: 1 });
    expect(next.report.initDurationMs).toBeGreaterThan(0);
    // One warm container per function: the timed-out one is gone.
    expect(await emulatorContainers()).toBe(2);
  });

  it('enforces the memory size: going over it kills the environment', async () => {
    const fits = await invoke({ action: 'allocate', mb: 16 });
    expect(JSON.parse(fits.body.toString())).toEqual({ allocatedMb: 16 });
    const over = await invoke({ action: 'allocate', mb: 400 });
    expect(over.functionError).toBe(true);
    expect(JSON.parse(over.body.toString())).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/Runtime exited with error: signal: killed/),
    });
  });

  it('removes its containers when it shuts down', async () => {
    await emulator!.close();
    expect(await emulatorContainers()).toBe(0);
  });
});

describe('emulator with an image that holds an external extension in /opt/extensions', () => {
  const image = `lambda-kit/test-emulator-extension:amd64-${randomUUID().slice(0, 8)}`;
  const lines: string[] = [];
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    await requireDockerAndBase('amd64');
    await buildFunctionImage(FIXTURE, 'amd64', image, {
      probe: fileURLToPath(new URL('../fixtures/extensions/probe-extension.ts', import.meta.url)),
    });
    emulator = await Emulator.start({
      functions: [
        {
          name: 'with-extension',
          source: { image, platform: 'linux/amd64' },
          timeoutSeconds: 10,
          // /tmp is shared by the runtime and extension containers of one environment.
          environment: { PROBE_REPORT: '/tmp/probe-report.jsonl' },
        },
      ],
      log: (_name, line) => lines.push(line),
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await removeImage(image);
  });

  it('starts the extension, which registers and gets INVOKE, then SHUTDOWN when the emulator closes', async () => {
    const result = await emulator!.invoke('with-extension', { payload: Buffer.from('{"action":"echo","n":7}') });
    expect(JSON.parse(result.body.toString())).toEqual({ action: 'echo', n: 7 });
    await result.settled;
    expect(lines).toContain('probe ready');
    expect(lines.some((line) => /^EXTENSION\tName: probe\tState: Ready\tEvents: \[INVOKE, SHUTDOWN\]/.test(line))).toBe(true);
    // The extension's stdout reaches us through the container's log stream, which can lag its /next call.
    await vi.waitFor(() => expect(lines).toContain(`probe got INVOKE ${result.requestId}`), { timeout: 5000 });
    await emulator!.close();
    await vi.waitFor(() => expect(lines).toContain('probe shutting down: spindown'), { timeout: 5000 });
    const left = await docker.listContainers({ all: true, filters: { label: ['org.lambda-kit.emulator'] } });
    expect(left).toHaveLength(0);
  });
});
