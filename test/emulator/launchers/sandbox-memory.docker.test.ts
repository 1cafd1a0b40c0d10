// One function built by lambda-kit build, run by the emulator as a process
// (the zip) and as a container (the same files in a FROM-scratch image): Max
// Memory Used is the same quantity for both, so the two agree, idle and
// holding memory. This machine's architecture only: under qemu a container's
// memory is qemu's too.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionImage } from '../../../src/build/artifacts/image.ts';
import { buildProject, defaultCacheDir } from '../../../src/build/build.ts';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { filesOf, KIT_ARCH, removeImage, requireDocker } from '../../support/docker.ts';

const ENTRY = fileURLToPath(new URL('../../fixtures/functions/hold-handler.ts', import.meta.url));
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const HOLD_MB = 64;

describe(`Max Memory Used of one function as a process and as a linux/${ARCH} container`, () => {
  const image = `lambda-kit/test-memory-function:${ARCH}-${randomUUID().slice(0, 8)}`;
  let out: string;
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    await requireDocker();
    out = await mkdtemp(join(tmpdir(), 'lambda-kit-memory-'));
    const { artifacts } = await buildProject({
      cwd: out,
      selector: ENTRY,
      overrides: { arch: KIT_ARCH[ARCH], out },
      cacheDir: defaultCacheDir(),
    });
    const zip = artifacts[0]!.path;
    const unpacked = join(out, 'unpacked');
    await extract(zip, { dir: unpacked });
    await buildFunctionImage({ files: await filesOf(unpacked), arch: KIT_ARCH[ARCH], baseImage: 'scratch', tag: image });
    emulator = await Emulator.start({
      functions: [
        { name: 'process', source: { zip }, memoryMb: 256, maxEnvironments: 1 },
        { name: 'container', source: { image, platform: `linux/${ARCH}` }, memoryMb: 256, maxEnvironments: 1 },
        { name: 'short', source: { image, platform: `linux/${ARCH}` }, memoryMb: 128, maxEnvironments: 1, timeoutSeconds: 1 },
      ],
      log: () => {},
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await removeImage(image);
    await rm(out, { recursive: true, force: true });
  });

  const usedMb = async (name: string, allocateMb: number) => {
    const result = await emulator!.invoke(name, { payload: Buffer.from(JSON.stringify({ allocateMb })) });
    expect(result.functionError, result.body.toString()).toBe(false);
    return result.report.maxMemoryUsedMb!;
  };

  it('reports figures within a small factor of each other, idle and holding memory', async () => {
    const idle = { process: await usedMb('process', 0), container: await usedMb('container', 0) };
    const holding = { process: await usedMb('process', HOLD_MB), container: await usedMb('container', HOLD_MB) };
    // The pages of its Node alone are tens of MB: the anonymous memory alone (a cgroup's figure on a warm page cache) is far under.
    expect(idle.process).toBeGreaterThan(25);
    expect(idle.container).toBeGreaterThan(25);
    for (const figures of [idle, holding]) {
      expect(
        Math.max(figures.process, figures.container) / Math.min(figures.process, figures.container),
        JSON.stringify(figures),
      ).toBeLessThan(1.25);
    }
    expect(holding.process).toBeGreaterThanOrEqual(idle.process + HOLD_MB - 4);
    expect(holding.container).toBeGreaterThanOrEqual(idle.container + HOLD_MB - 4);
  });

  it("reports a container's figure after a timeout, and its memory size after it was killed for going over it", async () => {
    const invoke = (event: object) => emulator!.invoke('short', { payload: Buffer.from(JSON.stringify(event)) });
    const timedOut = await invoke({ allocateMb: HOLD_MB, hang: true });
    expect(JSON.parse(timedOut.body.toString())).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(timedOut.report.maxMemoryUsedMb).toBeGreaterThanOrEqual(HOLD_MB);
    const killed = await invoke({ allocateMb: 256 });
    expect(JSON.parse(killed.body.toString())).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(killed.report.maxMemoryUsedMb).toBe(128);
  });
});
