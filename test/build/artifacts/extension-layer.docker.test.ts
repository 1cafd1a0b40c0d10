// An extension layer zip built by the kit, unpacked into /opt of a function
// image FROM the stand-in base (no shell, nothing in /opt), for linux/amd64 and
// linux/arm64 (qemu): the kernel starts /opt/extensions/probe through its #!
// line (the layer's own Node, its one flag), and under the emulator's container
// source the probe registers, gets an INVOKE per invoke, receives the function's
// log lines through the Telemetry API, and gets SHUTDOWN at the end.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { buildProject } from '../../../src/build/build.ts';
import type { ExtensionLayerArtifact } from '../../../src/build/artifacts/formats.ts';
import { makeProject } from '../support.ts';
import { ARCHES, KIT_ARCH, buildFunctionImage, cleanUpAll, docker, removeImage, requireDockerAndBase } from '../../support/docker.ts';

const CACHE = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const PROBE = fileURLToPath(new URL('../../fixtures/extensions/probe-extension.ts', import.meta.url));
const FUNCTION = fileURLToPath(new URL('../../fixtures/functions/layer-user.ts', import.meta.url));
const REPORT = '/tmp/probe-report.jsonl';

interface ReportEntry {
  kind: 'registered' | 'subscribed' | 'event' | 'done' | 'batch';
  name: string;
  status?: number;
  body?: { functionName?: string };
  event?: { eventType: string; requestId?: string };
  records?: Array<{ type: string; record: unknown }>;
}

/** Runs the image once with another entrypoint and environment; resolves with its exit code and output. */
async function runOnce(image: string, platform: string, entrypoint: string[], env: string[]): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: entrypoint,
    Env: env,
    platform,
    HostConfig: { NetworkMode: 'host' },
    Labels: { 'org.lambda-kit.test': 'extension-layer' },
  } as Parameters<typeof docker.createContainer>[0]);
  try {
    const waited = container.wait({ condition: 'next-exit' });
    await container.start();
    const { StatusCode } = (await waited) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true });
    // Docker's multiplexed frames: an 8-byte header before each chunk.
    let output = '';
    for (let offset = 0; offset + 8 <= logs.length; ) {
      const size = logs.readUInt32BE(offset + 4);
      output += logs.toString('utf8', offset + 8, offset + 8 + size);
      offset += 8 + size;
    }
    return { code: StatusCode, output };
  } finally {
    await container.remove({ force: true });
  }
}

describe.each(ARCHES)('an extension layer built by the kit, in a linux/%s function image', (arch) => {
  const tag = `lambda-kit/test-extension-layer:${arch}-${randomUUID().slice(0, 8)}`;
  const platform = `linux/${arch}` as const;
  const cleanup: string[] = [];
  const lines: string[] = [];
  let layer: ExtensionLayerArtifact;
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    await requireDockerAndBase(arch);
    const cwd = await makeProject({ 'lambda-kit.config.json': JSON.stringify({ extensions: { probe: { entry: PROBE } } }) }, cleanup);
    const started = Date.now();
    const { artifacts } = await buildProject({ cwd, overrides: { arch: KIT_ARCH[arch] }, cacheDir: CACHE });
    layer = artifacts[0] as ExtensionLayerArtifact;
    console.log(`probe layer for ${arch}: ${layer.size} bytes, Node ${layer.nodeVersion}, built in ${Date.now() - started} ms`);
    const opt = await mkdtemp(join(tmpdir(), `lambda-kit-layer-${arch}-`));
    cleanup.push(opt);
    await extract(layer.path, { dir: opt });
    await buildFunctionImage(FUNCTION, arch, tag, {}, opt);
    emulator = await Emulator.start({
      functions: [
        {
          name: 'with-layer',
          source: { image: tag, platform },
          // Generous: arm64 runs under qemu.
          timeoutSeconds: 30,
          // Every container of the environment gets this limit. Under qemu the probe (fetch, an HTTP
          // server) goes over 128 MB (the kernel's OOM killer: anon-rss 130 MB, qemu's translated code
          // counted): 256 there.
          memoryMb: arch === 'arm64' ? 256 : 128,
          maxEnvironments: 1,
          // /tmp is shared by the runtime and extension containers of one environment.
          environment: { PROBE_REPORT: REPORT },
        },
      ],
      log: (_name, line) => lines.push(line),
    });
  });

  afterAll(async () => {
    await cleanUpAll(`the extension layer test (${arch})`, [
      async () => emulator?.close(),
      () => removeImage(tag),
      ...cleanup.map((dir) => () => rm(dir, { recursive: true, force: true })),
    ]);
  });

  it('has no shell: the kernel starts extensions/probe through its #! line, with --enable-source-maps', async () => {
    // The image's /bin/sh does not exist: only the kernel can have followed the #! line.
    const shell = await runOnce(tag, platform, ['/bin/sh', '-c', 'true'], []).catch((error: Error) => ({
      code: -1,
      output: error.message,
    }));
    expect(shell.code).not.toBe(0);
    expect(shell.output).toMatch(/\/bin\/sh: no such file or directory/);
    // fetch refuses port 9: the probe fails its first fetch, and the stack trace is mapped to its .ts line.
    const started = await runOnce(
      tag,
      platform,
      ['/opt/extensions/probe'],
      ['AWS_LAMBDA_RUNTIME_API=127.0.0.1:9', `PROBE_REPORT=${REPORT}`],
    );
    expect(started.code, started.output).toBe(1);
    expect(started.output).toMatch(/TypeError: fetch failed/);
    expect(started.output).toMatch(/probe-extension\.ts:\d+:\d+\)/);
  });

  it("registers, gets an INVOKE per invoke, and the function's log lines through the Telemetry API", async () => {
    const invoke = async (payload: unknown) => {
      const result = await emulator!.invoke('with-layer', { payload: Buffer.from(JSON.stringify(payload)) });
      expect(result.functionError, result.body.toString()).toBe(false);
      await result.settled;
      return result;
    };
    const first = await invoke({ action: 'log', marker: 'first' });
    const second = await invoke({ action: 'log', marker: 'second' });
    expect(JSON.parse(first.body.toString())).toBe('logged');
    expect(lines).toContainEqual(expect.stringMatching(/^EXTENSION\tName: probe\tState: Ready\tEvents: \[INVOKE, SHUTDOWN\]/));

    // Telemetry is delivered in batches (timeoutMs 25): ask the function for the report until both lines are in.
    let entries: ReportEntry[] = [];
    const has = (marker: string) =>
      entries.some(
        (entry) =>
          entry.kind === 'batch' &&
          entry.records!.some((record) => record.type === 'function' && String(record.record).includes(`function says ${marker}`)),
      );
    for (let attempt = 0; attempt < 50 && !(has('first') && has('second')); attempt++) {
      const report = await invoke({ action: 'report' });
      entries = (JSON.parse(report.body.toString()) as string)
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as ReportEntry);
      if (!(has('first') && has('second'))) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(has('first') && has('second'), JSON.stringify(entries).slice(0, 2000)).toBe(true);
    expect(entries.find((entry) => entry.kind === 'registered')).toMatchObject({
      name: 'probe',
      status: 200,
      body: { functionName: 'with-layer' },
    });
    expect(entries.find((entry) => entry.kind === 'subscribed')).toMatchObject({ status: 200 });
    const invokes = entries.filter((entry) => entry.kind === 'event').map((entry) => entry.event!);
    expect(invokes.slice(0, 2)).toEqual([
      expect.objectContaining({ eventType: 'INVOKE', requestId: first.requestId }),
      expect.objectContaining({ eventType: 'INVOKE', requestId: second.requestId }),
    ]);
    expect(invokes.every((event) => event.eventType === 'INVOKE')).toBe(true);
    expect(lines).toContain(`probe got INVOKE ${second.requestId}`);
  });

  it('gets SHUTDOWN when the emulator closes, and leaves no container behind', async () => {
    await emulator!.close();
    expect(lines).toContain('probe shutting down: spindown');
    const left = await docker.listContainers({ all: true, filters: { label: ['org.lambda-kit.emulator'] } });
    expect(left.filter((container) => container.Image === tag)).toHaveLength(0);
  });
});
