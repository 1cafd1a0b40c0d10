// The fault matrix (fault-matrix-rows.ts) for functions run as container images
// (linux/amd64, built from the stand-in base image): the faults function, the
// same with the fault extension in /opt/extensions, and the raw runtime. The
// environments' /tmp directories go to a directory of this file's own, to be
// counted with the containers.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { buildFunctionImage, cleanUpAll, docker, removeImage, requireDockerAndBase } from '../support/docker.ts';
import { fixture } from '../support/function-process.ts';
import { FAULT_ROWS, runFaultRow, type FaultRole, type FaultTarget } from './fault-matrix-rows.ts';

const runtimeEntry = fileURLToPath(new URL('../../runtime/index.ts', import.meta.url));
const faultExtension = fileURLToPath(new URL('../fixtures/extensions/fault-extension.ts', import.meta.url));

/**
 * This file's emulator containers of one role (org.lambda-kit.emulator=environment | extension): those
 * of its own images, as other tests may run containers of the same label beside it.
 */
async function containers(role: 'environment' | 'extension', images: string[]): Promise<number> {
  const all = await docker.listContainers({ all: true, filters: { label: [`org.lambda-kit.emulator=${role}`] } });
  return all.filter((container) => images.includes(container.Image)).length;
}

describe('fault matrix: a container image', () => {
  const suffix = randomUUID().slice(0, 8);
  const images = {
    faults: `lambda-kit/test-fault-matrix:faults-${suffix}`,
    extended: `lambda-kit/test-fault-matrix:extended-${suffix}`,
    raw: `lambda-kit/test-fault-matrix:raw-${suffix}`,
  };
  let dir: string;
  let tmp: string;
  let emulator: Emulator | undefined;
  let roles: Map<FaultRole, string>;
  const savedTmpdir = process.env.TMPDIR;

  beforeAll(async () => {
    await requireDockerAndBase('amd64');
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-fault-matrix-image-'));
    tmp = join(dir, 'tmp');
    await mkdir(tmp);
    // The image's entry serves faults.ts' handler or stream, as FAULT_EXPORT says, through runModule (init errors included).
    const entry = join(dir, 'entry.ts');
    await writeFile(
      entry,
      `import { runModule } from ${JSON.stringify(runtimeEntry)};\n` +
        `await runModule(() => import(${JSON.stringify(fixture('faults.ts'))}), process.env.FAULT_EXPORT ?? 'handler', 'faults');\n`,
    );
    await buildFunctionImage(entry, 'amd64', images.faults);
    await buildFunctionImage(entry, 'amd64', images.extended, { faulty: faultExtension });
    await buildFunctionImage(fixture('raw-runtime.mjs'), 'amd64', images.raw);
    const image = (tag: string): FunctionDefinition['source'] => ({ image: tag, platform: 'linux/amd64' });
    const stream = { FAULT_EXPORT: 'stream' };
    const functions: Array<FunctionDefinition & { role: FaultRole }> = [
      { role: 'buffered', name: 'buffered', source: image(images.faults), timeoutSeconds: 1, maxEnvironments: 1 },
      { role: 'stream', name: 'stream', source: image(images.faults), environment: stream, timeoutSeconds: 1, maxEnvironments: 1 },
      {
        role: 'large-stream',
        name: 'large-stream',
        source: image(images.faults),
        environment: stream,
        timeoutSeconds: 30,
        maxEnvironments: 1,
      },
      { role: 'raw', name: 'raw', source: image(images.raw), maxEnvironments: 1 },
      { role: 'never-next', name: 'never-next', source: image(images.raw), environment: { RAW_FAULT: 'never-next' }, initTimeoutMs: 1000 },
      { role: 'init-throw', name: 'init-throw', source: image(images.faults), environment: { FAULT_INIT: 'throw' } },
      { role: 'init-hang', name: 'init-hang', source: image(images.faults), environment: { FAULT_INIT: 'hang' }, initTimeoutMs: 1000 },
      // The environment's containers share its /tmp: where the function leaves its marks for the extension.
      {
        role: 'extended',
        name: 'extended',
        source: image(images.extended),
        environment: { FAULT_DIR: '/tmp' },
        timeoutSeconds: 1,
        maxEnvironments: 1,
      },
    ];
    roles = new Map(functions.map((definition) => [definition.role, definition.name]));
    process.env.TMPDIR = tmp;
    emulator = await Emulator.start({
      functions: functions.map(({ role: _role, ...definition }) => ({ memoryMb: 256, ...definition })),
      log: () => {},
    });
  });

  afterAll(async () => {
    await cleanUpAll('the fault matrix on images', [
      async () => {
        await emulator?.close();
        // (Assigning undefined would set the string "undefined".)
        if (savedTmpdir === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmpdir;
        expect(await containers('environment', Object.values(images))).toBe(0);
        expect(await containers('extension', Object.values(images))).toBe(0);
        if (tmp) expect(await readdir(tmp)).toEqual([]);
      },
      ...Object.values(images).map((tag) => () => removeImage(tag)),
      () => rm(dir, { recursive: true, force: true }),
    ]);
  });

  const target = (): FaultTarget => ({
    endpoint: emulator!.endpoint,
    functionName: (role) => roles.get(role)!,
    environmentCount: (role) => emulator!.pool(roles.get(role)!)!.environmentCount,
    async checkNothingLeft() {
      // One container and one /tmp per live environment, one extension container per extended one; a torn-down
      // environment's are removed with it (an idle one's teardown may still be under way: polled).
      const live = () => [...roles.values()].reduce((sum, name) => sum + emulator!.pool(name)!.environmentCount, 0);
      await expect
        .poll(async () => ({
          environments: await containers('environment', Object.values(images)),
          extensions: await containers('extension', Object.values(images)),
          tmp: (await readdir(tmp)).filter((entry) => entry.startsWith('lambda-kit-env-tmp-')).length,
          others: (await readdir(tmp)).filter((entry) => !entry.startsWith('lambda-kit-env-tmp-')),
        }))
        .toEqual({ environments: live(), extensions: emulator!.pool('extended')!.environmentCount, tmp: live(), others: [] });
    },
  });

  it.each(FAULT_ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => runFaultRow(target(), row), 120_000);
});
