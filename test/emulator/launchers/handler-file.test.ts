// What a handler-file function sees: the variables a zip gets, with its own
// folder for /var/task and the runtime loop's for /var/runtime, and nothing of
// the emulator's environment.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';

const HANDLER = fileURLToPath(new URL('../../fixtures/functions/view-handler.ts', import.meta.url));
const RUNTIME_DIR = fileURLToPath(new URL('../../../runtime', import.meta.url));

describe('a handler-file function under the emulator', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    process.env.LAMBDA_KIT_TEST_CALLER_ONLY = 'not for the function';
    emulator = await Emulator.start({ functions: [{ name: 'view', source: { handlerFile: HANDLER } }], log: () => {} });
  });
  afterAll(async () => {
    delete process.env.LAMBDA_KIT_TEST_CALLER_ONLY;
    await emulator?.close();
  });

  it("runs in its own folder with Lambda's PATH and LD_LIBRARY_PATH made of its folders", async () => {
    const result = await emulator.invoke('view', { payload: Buffer.from('{}') });
    expect(result.functionError, result.body.toString()).toBe(false);
    const { env, cwd } = JSON.parse(result.body.toString()) as { env: Record<string, string>; cwd: string };
    const taskRoot = dirname(HANDLER);
    expect(cwd).toBe(taskRoot);
    expect(env).toMatchObject({
      LAMBDA_TASK_ROOT: taskRoot,
      LAMBDA_RUNTIME_DIR: RUNTIME_DIR,
      PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      LD_LIBRARY_PATH: `/var/lang/lib:/lib64:/usr/lib64:${RUNTIME_DIR}:${RUNTIME_DIR}/lib:${taskRoot}:${taskRoot}/lib:/opt/lib`,
      AWS_LAMBDA_FUNCTION_NAME: 'view',
    });
    expect(env).not.toHaveProperty('LAMBDA_KIT_TEST_CALLER_ONLY');
    expect(env).not.toHaveProperty('HOME');
  });
});
