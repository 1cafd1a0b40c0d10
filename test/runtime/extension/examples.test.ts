import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { invokeHttp } from '../../support/aws-clients.ts';
import { fixture } from '../../support/function-process.ts';
import { waitFor } from '../../support/wait.ts';

const example = (name: string) => fileURLToPath(new URL(`../../../examples/extensions/${name}/extension.ts`, import.meta.url));

// The two example extensions from source (the Docker tests run them from their built layers).
describe('examples/extensions under the emulator', () => {
  let dir: string;
  let emulator: Emulator;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-example-extensions-'));
    const extensionsDir = join(dir, 'extensions');
    await mkdir(extensionsDir);
    for (const name of ['logs-to-file', 'telemetry-counter']) {
      // From source, the name cannot come from the script's file name, and the package resolves to its .ts files.
      const wrapper = `#!/bin/sh\nLAMBDA_KIT_EXTENSION_NAME=${name} exec "${process.execPath}" --conditions=lambda-kit-source "${example(name)}"\n`;
      await writeFile(join(extensionsDir, name), wrapper);
      await chmod(join(extensionsDir, name), 0o755);
    }
    emulator = await Emulator.start({
      functions: [
        {
          name: 'observed',
          source: { command: [process.execPath, fixture('extension-host.ts')] },
          extensionsDir,
          maxEnvironments: 1,
          environment: { LOGS_TO_FILE_DIR: join(dir, 'logs'), TELEMETRY_COUNTER_FILE: join(dir, 'counts.json') },
        },
      ],
      log: (name, line) => lines.push(`${name}: ${line}`),
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("logs-to-file appends the function's log lines to <function>.log; telemetry-counter counts invokes, INVOKE events and lines", async () => {
    for (const marker of ['alpha', 'beta', 'gamma'])
      expect((await invokeHttp(emulator.endpoint, 'observed', { action: 'log', marker })).status).toBe(200);
    const log = await waitFor(
      () => readFile(join(dir, 'logs', 'observed.log'), 'utf8').catch(() => ''),
      (text) => text.includes('function says gamma'),
    );
    const logged = log.split('\n').filter((line) => line.includes('function says'));
    expect(logged.map((line) => line.replace(/.*function says /, ''))).toEqual(['alpha', 'beta', 'gamma']);
    // Each line: the record's ISO time, then the line as the function wrote it.
    expect(logged[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+\t\S+\tINFO\tfunction says alpha$/);
    const counts = await waitFor(
      () =>
        readFile(join(dir, 'counts.json'), 'utf8')
          .then(JSON.parse)
          .catch(() => ({})),
      (value: Record<string, number>) => value.invokes === 3,
    );
    expect(counts).toMatchObject({ invokes: 3, invokeEvents: 3, errors: 0, logLines: expect.any(Number) });
    expect(counts.logLines).toBeGreaterThanOrEqual(3);
    expect(counts.billedMs).toBeGreaterThan(0);
    expect(lines).toContain('observed: EXTENSION\tName: logs-to-file\tState: Ready\tEvents: [SHUTDOWN]');
    expect(lines).toContain('observed: EXTENSION\tName: telemetry-counter\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
  });

  it('at shutdown, telemetry-counter prints its counts', async () => {
    await emulator.close();
    expect(lines.some((line) => /^observed: telemetry-counter: spindown: \{"invokes":3,"invokeEvents":3,/.test(line))).toBe(true);
  });
});
