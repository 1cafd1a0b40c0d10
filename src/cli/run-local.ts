import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeApiServer, type InvocationOutcome } from '../emulator/runtime-api-server.ts';
import { CliError, UsageError } from './errors.ts';

export interface RunLocalOptions {
  handlerFile: string;
  exportName: string;
  payload: Buffer;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface RunLocalResult {
  functionError: boolean;
  body: string;
}

/** The runtime entry, as source (running from a checkout) or compiled (installed package). */
function runtimeEntry(): string {
  const ownExtension = extname(new URL(import.meta.url).pathname);
  return new URL(`../../runtime/index${ownExtension === '.ts' ? '.ts' : '.js'}`, import.meta.url).href;
}

/**
 * Runs one invocation of a handler file locally: a Runtime API on 127.0.0.1, the
 * runtime loop in its own process with the environment Lambda sets, one invoke.
 */
export async function runLocal(options: RunLocalOptions, log: (line: string) => void): Promise<RunLocalResult> {
  const file = resolve(options.handlerFile);
  if (!existsSync(file)) {
    throw new UsageError(`handler file ${options.handlerFile} does not exist: pass the path of a .ts or .js file that exports "${options.exportName}"`);
  }
  const functionName = basename(dirname(file)) || 'function';
  const server = await RuntimeApiServer.start({
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    defaultTimeoutMs: options.timeoutSeconds * 1000,
  });
  const bootstrap =
    `import { runModule } from ${JSON.stringify(runtimeEntry())};\n` +
    `await runModule(() => import(${JSON.stringify(pathToFileURL(file).href)}), ${JSON.stringify(options.exportName)}, ${JSON.stringify(basename(file, extname(file)))});\n`;
  const started = Date.now();
  const child = spawn(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', bootstrap], {
    cwd: dirname(file),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      AWS_LAMBDA_RUNTIME_API: server.address,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]local`,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      LAMBDA_TASK_ROOT: dirname(file),
      _HANDLER: `${basename(file, extname(file))}.${options.exportName}`,
      TZ: ':UTC',
    },
  });
  // Function logs go to stderr so that stdout carries only the response.
  child.stdout.on('data', (data: Buffer) => process.stderr.write(data));
  child.stderr.on('data', (data: Buffer) => process.stderr.write(data));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race<InvocationOutcome | { kind: 'timeout' } | { kind: 'exit'; code: number | null }>([
      server.invoke(options.payload, { timeoutMs: options.timeoutSeconds * 1000 }),
      new Promise((done) => {
        timer = setTimeout(() => done({ kind: 'timeout' }), options.timeoutSeconds * 1000);
      }),
      exited.then((code) => ({ kind: 'exit' as const, code })),
    ]);
    log(`invoked ${functionName}.${options.exportName} in ${Date.now() - started} ms (including start-up)`);
    switch (outcome.kind) {
      case 'response':
        return { functionError: false, body: outcome.body.toString('utf8') };
      case 'stream':
        return { functionError: outcome.errorType !== undefined, body: outcome.body.toString('utf8') };
      case 'error':
        return { functionError: true, body: outcome.body.toString('utf8') };
      case 'init-error':
        return { functionError: true, body: JSON.stringify(outcome.error) };
      case 'timeout':
        return {
          functionError: true,
          body: JSON.stringify({
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${options.timeoutSeconds.toFixed(2)} seconds`,
          }),
        };
      case 'exit':
        return {
          functionError: true,
          body: JSON.stringify({
            errorType: 'Runtime.ExitError',
            errorMessage: `Runtime exited with error: exit status ${outcome.code}`,
          }),
        };
    }
  } finally {
    clearTimeout(timer);
    child.kill('SIGTERM');
    await exited;
    await server.close();
  }
}

export function readPayload(payload: string | undefined, payloadFile: string | undefined): Buffer {
  if (payload !== undefined && payloadFile !== undefined) throw new UsageError('give --payload or --payload-file, not both');
  let text = '{}';
  if (payload !== undefined) text = payload;
  else if (payloadFile !== undefined) {
    try {
      text = payloadFile === '-' ? readFileSync(0, 'utf8') : readFileSync(payloadFile, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read payload file ${payloadFile}: ${(error as Error).message}`);
    }
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new CliError(
      'LK_CLI_PAYLOAD_NOT_JSON',
      `the payload is not JSON (${(error as Error).message}); Lambda only accepts JSON payloads, e.g. --payload '{"firstName":"Ada"}'`,
    );
  }
  return Buffer.from(text);
}
