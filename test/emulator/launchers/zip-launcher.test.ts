// What a zip function sees of its execution environment under the emulator:
// /var/task in a mount namespace where one can be made (the folder it was
// unpacked to where not, after a notice), Lambda's variables and nothing of
// the emulator's own; and nothing left behind once the emulator is closed.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { namespaceSupport } from '../../../src/emulator/launchers/mount-namespace.ts';
import { zipTestFunction } from '../../support/zip-function.ts';

const VIEW = fileURLToPath(new URL('../../fixtures/functions/sandbox-view.ts', import.meta.url));
const INVOKE_ZIP = fileURLToPath(new URL('../../fixtures/emulator/invoke-zip.ts', import.meta.url));
const PROBE_EXTENSION = fileURLToPath(new URL('../../fixtures/extensions/probe-extension.ts', import.meta.url));

interface View {
  env: Record<string, string>;
  cwd: string;
  stack: string;
  pid: number;
}

/** Every variable a zip function gets, by name, beside the function's own: Lambda's and no more. */
const LAMBDA_VARIABLES = [
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_REGION',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  'LANG',
  'LD_LIBRARY_PATH',
  'PATH',
  'TZ',
  '_HANDLER',
  // Set by the runtime loop from the invocation's header.
  '_X_AMZN_TRACE_ID',
];

/** Sets variables of this process's environment; the function returned puts them back as they were. */
function setVariables(variables: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('a zip function under the emulator', () => {
  let dir: string;
  let zip: string;
  let ownTmp: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-kit-zip-test-'));
    zip = join(dir, 'view.zip');
    await zipTestFunction(VIEW, zip);
    // A temporary folder of this test's own, so that what the emulator leaves in it can be counted.
    ownTmp = await mkdtemp(join(dir, 'tmp-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs at /var/task with Lambda's variables, nothing of the emulator's, and leaves nothing behind", async () => {
    const support = await namespaceSupport();
    const restore = setVariables({
      TMPDIR: ownTmp,
      LAMBDA_KIT_TEST_CALLER_ONLY: 'not for the function',
      AWS_SECRET_ACCESS_KEY: "the caller's own",
    });
    let emulator: Emulator | undefined;
    let view: View;
    try {
      emulator = await Emulator.start({
        functions: [{ name: 'view', source: { zip }, handler: 'index.handler', environment: { GREETING: 'hello' } }],
        log: () => {},
      });
      const result = await emulator.invoke('view', { payload: Buffer.from('{}') });
      expect(result.functionError, result.body.toString()).toBe(false);
      view = JSON.parse(result.body.toString()) as View;
    } finally {
      await emulator?.close();
      restore();
    }
    // The shell that sets up the namespace leaves PWD, as Lambda's environment has it.
    const shellVariables = 'tools' in support ? ['PWD'] : [];
    expect(Object.keys(view.env).sort()).toEqual([...LAMBDA_VARIABLES, ...shellVariables, 'GREETING'].sort());
    expect(view.env).toMatchObject({
      _HANDLER: 'index.handler',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      GREETING: 'hello',
    });
    if ('tools' in support) {
      expect(view.env.LAMBDA_TASK_ROOT).toBe('/var/task');
      expect(view.env.LD_LIBRARY_PATH).toBe(
        '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
      );
      expect(view.cwd).toBe('/var/task');
      expect(view.stack).toContain('file:///var/task/index.mjs:');
    } else {
      // This machine cannot make namespaces (the fallback test below covers that case as well).
      expect(view.env.LAMBDA_TASK_ROOT).toBe(view.cwd);
      expect(view.cwd.startsWith(join(ownTmp, 'lambda-kit-task-'))).toBe(true);
    }
    expect(await readdir(ownTmp)).toEqual([]);
    expect(isGone(view.pid)).toBe(true);
  });

  it('falls back to the unpacked folder, with a notice, where no namespace can be made', async () => {
    // Without unshare on its PATH, the emulator cannot make namespaces.
    const emptyPath = await mkdtemp(join(dir, 'empty-path-'));
    const child = spawn(process.execPath, [INVOKE_ZIP, zip, '{}'], {
      env: { PATH: emptyPath, TMPDIR: ownTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(
      /^lambda-kit emulator: zips run in their unpacked folder, not at \/var\/task, as no mount namespace can be made here \(util-linux's unshare is not on PATH\)\n$/,
    );
    const { body: view } = JSON.parse(stdout) as { body: View };
    expect(view.cwd.startsWith(join(ownTmp, 'lambda-kit-task-'))).toBe(true);
    expect(view.env.LAMBDA_TASK_ROOT).toBe(view.cwd);
    expect(view.env.LD_LIBRARY_PATH).toBe(
      `/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:${view.cwd}:${view.cwd}/lib:/opt/lib`,
    );
    expect(view.stack).toContain(`file://${view.cwd}/index.mjs:`);
    // The emulator's own PATH is not the function's.
    expect(view.env.PATH).toBe('/usr/local/bin:/usr/bin/:/bin:/opt/bin');
    expect(await readdir(ownTmp)).toEqual([]);
    expect(isGone(view.pid)).toBe(true);
  });

  it('passes what inheritEnvironment names, and everything with true, under the variables Lambda sets', async () => {
    const restore = setVariables({ LAMBDA_KIT_TEST_PASSED: 'named', LAMBDA_KIT_TEST_OTHER: 'only with true' });
    let emulator: Emulator | undefined;
    try {
      emulator = await Emulator.start({
        functions: [
          { name: 'named', source: { zip }, inheritEnvironment: ['LAMBDA_KIT_TEST_PASSED', 'LAMBDA_KIT_TEST_UNSET'] },
          { name: 'all', source: { zip }, inheritEnvironment: true },
        ],
        log: () => {},
      });
      const named = JSON.parse((await emulator.invoke('named', { payload: Buffer.from('{}') })).body.toString()) as View;
      expect(named.env.LAMBDA_KIT_TEST_PASSED).toBe('named');
      expect(named.env).not.toHaveProperty('LAMBDA_KIT_TEST_OTHER');
      expect(named.env).not.toHaveProperty('LAMBDA_KIT_TEST_UNSET');
      const all = JSON.parse((await emulator.invoke('all', { payload: Buffer.from('{}') })).body.toString()) as View;
      expect(all.env).toMatchObject({ LAMBDA_KIT_TEST_PASSED: 'named', LAMBDA_KIT_TEST_OTHER: 'only with true' });
      // The launch's own variables win over what is inherited wholesale.
      expect(all.env.PATH).toBe('/usr/local/bin:/usr/bin/:/bin:/opt/bin');
      expect(all.env.AWS_LAMBDA_FUNCTION_NAME).toBe('all');
      expect(all.env.LAMBDA_TASK_ROOT).toBe(named.env.LAMBDA_TASK_ROOT === '/var/task' ? '/var/task' : all.cwd);
    } finally {
      await emulator?.close();
      restore();
    }
  });

  it('starts the extensions of extensionsDir from /opt/extensions, in /var/task', async () => {
    const extensionsDir = join(dir, 'extensions');
    await mkdir(extensionsDir, { recursive: true });
    const seen = join(dir, 'extension-saw');
    // The wrapper says where it was started from, then runs the probe extension, which registers.
    await writeFile(
      join(extensionsDir, 'probe'),
      `#!/bin/sh\necho "$0 $(pwd)" >> "${seen}"\nexec "${process.execPath}" "${PROBE_EXTENSION}" probe\n`,
    );
    await chmod(join(extensionsDir, 'probe'), 0o755);
    const support = await namespaceSupport();
    let emulator: Emulator | undefined;
    try {
      emulator = await Emulator.start({
        functions: [
          { name: 'extended', source: { zip }, extensionsDir, environment: { PROBE_REPORT: join(dir, 'probe.jsonl') }, maxEnvironments: 1 },
        ],
        log: () => {},
      });
      const result = await emulator.invoke('extended', { payload: Buffer.from('{}') });
      expect(result.functionError, result.body.toString()).toBe(false);
      const view = JSON.parse(result.body.toString()) as View;
      const [path, cwd] = (await readFile(seen, 'utf8')).trim().split(' ');
      if ('tools' in support) expect([path, cwd]).toEqual(['/opt/extensions/probe', '/var/task']);
      else expect([path, cwd]).toEqual([join(extensionsDir, 'probe'), view.cwd]);
    } finally {
      await emulator?.close();
    }
  });
});
