import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Emulator } from '../emulator/emulator.ts';
import { LaunchError } from '../emulator/errors.ts';
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

/**
 * Runs one invocation of a handler file locally: the emulator with one
 * function served by the lambda-kit runtime loop, one invoke, then shut down.
 */
export async function runLocal(options: RunLocalOptions, log: (line: string) => void): Promise<RunLocalResult> {
  const functionName = basename(dirname(resolve(options.handlerFile))).replace(/[^a-zA-Z0-9_-]/g, '-') || 'function';
  let emulator: Emulator;
  try {
    emulator = await Emulator.start({
      functions: [
        {
          name: functionName,
          source: { handlerFile: options.handlerFile, exportName: options.exportName },
          timeoutSeconds: options.timeoutSeconds,
          memoryMb: options.memoryMb,
        },
      ],
      // Function logs go to stderr so that stdout carries only the response.
      log: (_name, line) => process.stderr.write(line + '\n'),
    });
  } catch (error) {
    if (error instanceof LaunchError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const started = Date.now();
    const result = await emulator.invoke(functionName, { payload: options.payload });
    log(`invoked ${functionName}.${options.exportName} in ${Date.now() - started} ms (including start-up)`);
    return { functionError: result.functionError, body: result.body.toString('utf8') };
  } finally {
    await emulator.close();
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
