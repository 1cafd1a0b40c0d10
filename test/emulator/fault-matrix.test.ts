// The fault matrix (fault-matrix-rows.ts) for a function run as a local process
// (a handler file, a command) and as a zip built by the kit's buildProject
// (its bootstrap and its own Node). The emulator's temporary files go to a
// directory of this file's own, to be counted.
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject, defaultCacheDir } from '../../src/build/build.ts';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { fixture } from '../support/function-process.ts';
import { FAULT_ROWS, runFaultRow, type FaultRole, type FaultTarget } from './fault-matrix-rows.ts';

const faults = fixture('faults.ts');
const rawRuntime = fixture('raw-runtime.mjs');
const faultExtension = fileURLToPath(new URL('../fixtures/extensions/fault-extension.ts', import.meta.url));

type Sources = Record<'handler' | 'stream' | 'raw', FunctionDefinition['source']>;

/** The roles' functions, from the sources of one kind. */
function definitions(sources: Sources, extensionsDir: string, marks: string): Array<FunctionDefinition & { role: FaultRole }> {
  return [
    { role: 'buffered', name: 'buffered', source: sources.handler, timeoutSeconds: 1, maxEnvironments: 1 },
    { role: 'stream', name: 'stream', source: sources.stream, timeoutSeconds: 1, maxEnvironments: 1 },
    { role: 'large-stream', name: 'large-stream', source: sources.stream, timeoutSeconds: 30, maxEnvironments: 1 },
    { role: 'raw', name: 'raw', source: sources.raw, maxEnvironments: 1 },
    { role: 'never-next', name: 'never-next', source: sources.raw, environment: { RAW_FAULT: 'never-next' }, initTimeoutMs: 1000 },
    { role: 'init-throw', name: 'init-throw', source: sources.handler, environment: { FAULT_INIT: 'throw' } },
    { role: 'init-hang', name: 'init-hang', source: sources.handler, environment: { FAULT_INIT: 'hang' }, initTimeoutMs: 1000 },
    {
      role: 'extended',
      name: 'extended',
      source: sources.handler,
      extensionsDir,
      environment: { FAULT_DIR: marks },
      timeoutSeconds: 1,
      maxEnvironments: 1,
    },
  ];
}

/** A zip of the raw runtime: a bootstrap that runs it with this machine's Node. */
async function rawRuntimeZip(path: string): Promise<void> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(`#!/bin/sh\nexec "${process.execPath}" "$LAMBDA_TASK_ROOT/raw-runtime.mjs"\n`), 'bootstrap', {
    mode: 0o100755,
  });
  zip.addFile(rawRuntime, 'raw-runtime.mjs', { mode: 0o100644 });
  zip.end();
  await new Promise<void>((resolve, reject) =>
    zip.outputStream
      .pipe(createWriteStream(path))
      .on('close', () => resolve())
      .on('error', reject),
  );
}

describe.each([
  ['a local process', 'process'],
  ['a zip built by buildProject', 'zip'],
] as const)('fault matrix: %s', (_title, kind) => {
  let dir: string;
  let tmp: string;
  let emulator: Emulator;
  let roles: Map<FaultRole, string>;
  let zipFunctions = 0;
  const savedTmpdir = process.env.TMPDIR;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `lambda-kit-fault-matrix-${kind}-`));
    const extensionsDir = join(dir, 'extensions');
    const marks = join(dir, 'marks');
    tmp = join(dir, 'tmp');
    await Promise.all([mkdir(extensionsDir), mkdir(marks), mkdir(tmp)]);
    await writeFile(join(extensionsDir, 'faulty'), `#!/bin/sh\nexec "${process.execPath}" "${faultExtension}" faulty\n`);
    await chmod(join(extensionsDir, 'faulty'), 0o755);
    let sources: Sources;
    if (kind === 'process') {
      sources = {
        handler: { handlerFile: faults },
        stream: { handlerFile: faults, exportName: 'stream' },
        raw: { command: [process.execPath, rawRuntime] },
      };
    } else {
      // The kit's own build, with the Node it ships (cached in ~/.cache/lambda-kit after its first download).
      await writeFile(
        join(dir, 'lambda-kit.config.json'),
        JSON.stringify({ functions: { faults: { entry: faults }, 'faults-stream': { entry: faults, export: 'stream' } } }),
      );
      const { artifacts } = await buildProject({ cwd: dir, overrides: { out: join(dir, 'out') }, cacheDir: defaultCacheDir() });
      const zipOf = (name: string) => artifacts.find((artifact) => artifact.path.endsWith(`${name}.zip`))!.path;
      await rawRuntimeZip(join(dir, 'raw.zip'));
      sources = { handler: { zip: zipOf('faults') }, stream: { zip: zipOf('faults-stream') }, raw: { zip: join(dir, 'raw.zip') } };
    }
    const functions = definitions(sources, extensionsDir, marks);
    zipFunctions = kind === 'zip' ? functions.length : 0;
    roles = new Map(functions.map((definition) => [definition.role, definition.name]));
    process.env.TMPDIR = tmp;
    emulator = await Emulator.start({ functions: functions.map(({ role: _role, ...definition }) => definition), log: () => {} });
  }, 120_000);

  afterAll(async () => {
    await emulator?.close();
    // (Assigning undefined would set the string "undefined".)
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    // Everything the emulator unpacked or made is gone once it is closed.
    if (tmp) expect(await readdir(tmp)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  const target = (): FaultTarget => ({
    endpoint: emulator.endpoint,
    functionName: (role) => roles.get(role)!,
    environmentCount: (role) => emulator.pool(roles.get(role)!)!.environmentCount,
    async checkNothingLeft() {
      // A zip's task root is unpacked once per function and kept while the emulator runs; nothing else stays.
      const left = await readdir(tmp);
      expect(left).toHaveLength(zipFunctions);
      for (const entry of left) expect(entry).toMatch(/^lambda-kit-task-/);
    },
  });

  it.each(FAULT_ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => runFaultRow(target(), row), 30_000);
});
