// Debian's awscli (apt package awscli: aws-cli 2.9.19 on Debian 12), unchanged,
// against the emulator: `aws lambda invoke --endpoint-url` prints and writes
// what it would for AWS. Run by full path (/usr/bin/aws): another `aws`
// (pyenv, pip) may come first on PATH.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { AWS_CLI, requireAwsCli } from '../support/aws-clients.ts';
import { fixture } from '../support/function-process.ts';

const node = (script: string): FunctionDefinition['source'] => ({ command: [process.execPath, fixture(script)] });

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

// The CLI is a Python program: a second or more to start on a busy 2-core machine.
const CLI_TEST_TIMEOUT_MS = 60_000;

describe('awscli (Debian) against the emulator', () => {
  let emulator: Emulator;
  let home: string;
  let version: string;

  const aws = (args: string[]) =>
    new Promise<CliRun>((resolve) => {
      execFile(
        AWS_CLI,
        args,
        {
          // Nothing from this machine's AWS set-up: dummy keys, no instance metadata, an empty HOME.
          env: {
            PATH: '/usr/bin:/bin',
            HOME: home,
            AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
            AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_PAGER: '',
          },
          timeout: CLI_TEST_TIMEOUT_MS - 5_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** `aws lambda invoke ... out.json`: the printed JSON and what went into out.json. */
  const invoke = async (functionName: string, payload: string, extra: string[] = ['--cli-binary-format', 'raw-in-base64-out']) => {
    const outfile = join(home, `out-${Math.random().toString(36).slice(2)}.json`);
    const run = await aws([
      'lambda',
      'invoke',
      '--endpoint-url',
      emulator.endpoint,
      '--function-name',
      functionName,
      ...extra,
      '--payload',
      payload,
      '--log-type',
      'Tail',
      outfile,
    ]);
    if (run.code !== 0) return { run, printed: undefined, out: undefined, log: '' };
    const printed = JSON.parse(run.stdout) as { StatusCode: number; FunctionError?: string; LogResult: string; ExecutedVersion: string };
    const out = JSON.parse(await readFile(outfile, 'utf8'));
    return { run, printed, out, log: Buffer.from(printed.LogResult, 'base64').toString('utf8') };
  };

  beforeAll(async () => {
    requireAwsCli();
    home = await mkdtemp(join(tmpdir(), 'lambda-kit-awscli-'));
    emulator = await Emulator.start({
      functions: [{ name: 'behaviours', source: node('behaviours.ts'), timeoutSeconds: 1 }],
      log: () => {},
    });
    version = (await aws(['--version'])).stdout.trim();
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await emulator?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('is aws-cli v2 (it knows --cli-binary-format)', () => {
    expect(version).toMatch(/^aws-cli\/2\./);
  });

  it('success: prints StatusCode 200, LogResult and ExecutedVersion, no FunctionError; writes the result', {
    timeout: CLI_TEST_TIMEOUT_MS,
  }, async () => {
    const { run, printed, out, log } = await invoke('behaviours', '{"action":"echo","firstName":"Ada"}');
    expect(run.stderr).toBe('');
    expect(Object.keys(printed!).sort()).toEqual(['ExecutedVersion', 'LogResult', 'StatusCode']);
    expect(printed).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(out).toEqual({ action: 'echo', firstName: 'Ada' });
    expect(log).toMatch(/^START RequestId: [0-9a-f-]{36} Version: \$LATEST\n/);
    expect(log).toMatch(/\nREPORT RequestId: [0-9a-f-]{36}\tDuration: /);
  });

  it('handler error: prints FunctionError Unhandled; writes the error document', { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { run, printed, out, log } = await invoke('behaviours', '{"action":"throw-error"}');
    // The CLI exits 0 for a function error, as for AWS: the invoke itself succeeded.
    expect(run.code).toBe(0);
    expect(printed).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' });
    expect(out).toMatchObject({ errorType: 'ValidationError', errorMessage: 'firstName is required' });
    expect(log).toMatch(/\tERROR\tInvoke Error /);
  });

  it('timeout: prints FunctionError Unhandled; writes Sandbox.Timedout', { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { printed, out, log } = await invoke('behaviours', '{"action":"overlap","expected":99}');
    expect(printed).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' });
    expect(out).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/),
    });
    expect(log).toMatch(/Task timed out after 1\.00 seconds/);
  });

  it('unknown function: exits 254 with the ResourceNotFoundException message', { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { run } = await invoke('nope', '{}');
    expect(run.code).toBe(254);
    expect(run.stderr.trim()).toBe(
      'An error occurred (ResourceNotFoundException) when calling the Invoke operation: ' +
        'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    );
  });

  it('without --cli-binary-format, v2 takes --payload as base64', { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { printed, out } = await invoke('behaviours', Buffer.from('{"action":"echo","via":"base64"}').toString('base64'), []);
    expect(printed).toMatchObject({ StatusCode: 200 });
    expect(out).toEqual({ action: 'echo', via: 'base64' });
  });
});
