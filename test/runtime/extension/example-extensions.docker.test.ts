// The two example extensions (examples/extensions), built into layer zips by
// the kit from this repository's lambda-kit.config.json, both unpacked into
// /opt of one function image (their lambda-kit-node/ files overlay), and run
// under the emulator's container source on linux/amd64: logs-to-file writes
// the function's lines to /tmp/lambda-logs/<function>.log, telemetry-counter
// counts invocations and prints its counts at shutdown.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { buildProject } from '../../../src/build/build.ts';
import { buildFunctionImage, cleanUpAll, removeImage, requireDockerAndBase } from '../../support/docker.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const FUNCTION = fileURLToPath(new URL('../../fixtures/functions/layer-user.ts', import.meta.url));

describe('examples/extensions as layers built by the kit, in a linux/amd64 function image', () => {
  const tag = `lambda-kit/test-example-extensions:${randomUUID().slice(0, 8)}`;
  const cleanup: string[] = [];
  const lines: string[] = [];
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    await requireDockerAndBase('amd64');
    const out = await mkdtemp(join(tmpdir(), 'lambda-kit-example-layers-'));
    const opt = await mkdtemp(join(tmpdir(), 'lambda-kit-example-opt-'));
    cleanup.push(out, opt);
    for (const name of ['logs-to-file', 'telemetry-counter']) {
      const { artifacts } = await buildProject({ cwd: ROOT, selector: name, overrides: { arch: 'x86_64', out }, cacheDir: CACHE });
      expect(artifacts.map((artifact) => artifact.kind)).toEqual(['extension-layer']);
      console.log(`${name} layer: ${artifacts[0]!.size} bytes`);
      await extract(artifacts[0]!.path, { dir: opt });
    }
    await buildFunctionImage(FUNCTION, 'amd64', tag, {}, opt);
    emulator = await Emulator.start({
      functions: [{ name: 'observed', source: { image: tag, platform: 'linux/amd64' }, timeoutSeconds: 30, maxEnvironments: 1 }],
      log: (_name, line) => lines.push(line),
    });
  });

  afterAll(async () => {
    await cleanUpAll('the example extensions test', [
      async () => emulator?.close(),
      () => removeImage(tag),
      ...cleanup.map((dir) => () => rm(dir, { recursive: true, force: true })),
    ]);
  });

  const invoke = async (payload: unknown) => {
    const result = await emulator!.invoke('observed', { payload: Buffer.from(JSON.stringify(payload)) });
    expect(result.functionError, result.body.toString()).toBe(false);
    await result.settled;
    return JSON.parse(result.body.toString()) as unknown;
  };

  /** Reads a file in the environment's shared /tmp through the function, until `ready` accepts it. */
  async function readUntil(path: string, ready: (text: string) => boolean): Promise<string> {
    let text = '';
    for (let attempt = 0; attempt < 50; attempt++) {
      text = ((await invoke({ action: 'read', path })) as string | null) ?? '';
      if (ready(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${path} never got ready; last: ${text.slice(0, 1000)}`);
  }

  it("both register; logs-to-file appends the function's lines, telemetry-counter counts what it saw", async () => {
    for (const marker of ['one', 'two', 'three']) expect(await invoke({ action: 'log', marker })).toBe('logged');
    expect(lines).toContainEqual(expect.stringMatching(/^EXTENSION\tName: logs-to-file\tState: Ready\tEvents: \[SHUTDOWN\]/));
    expect(lines).toContainEqual(expect.stringMatching(/^EXTENSION\tName: telemetry-counter\tState: Ready\tEvents: \[INVOKE, SHUTDOWN\]/));
    const log = await readUntil('/tmp/lambda-logs/observed.log', (text) => text.includes('function says three'));
    expect(
      log
        .split('\n')
        .filter((line) => line.includes('function says'))
        .map((line) => line.replace(/.*function says /, '')),
    ).toEqual(['one', 'two', 'three']);
    const counts = JSON.parse(await readUntil('/tmp/telemetry-counter.json', (text) => text !== '' && JSON.parse(text).invokes >= 3));
    expect(counts).toMatchObject({ errors: 0, maxMemoryUsedMB: expect.any(Number) });
    expect(counts.invokeEvents).toBeGreaterThanOrEqual(3);
    expect(counts.logLines).toBeGreaterThanOrEqual(3);
  });

  it('at shutdown, telemetry-counter prints its counts', async () => {
    await emulator!.close();
    expect(lines).toContainEqual(expect.stringMatching(/^telemetry-counter: spindown: \{"invokes":\d+,"invokeEvents":\d+,/));
  });
});
