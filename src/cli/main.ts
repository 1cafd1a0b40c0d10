#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CliError, UsageError } from './errors.ts';
import { emulateCommand } from './emulate.ts';
import { invokeCommand } from './invoke.ts';
import { readPayload, runLocal } from './run-local.ts';

const USAGE = `lambda-kit: build, run and test AWS Lambda functions written in TypeScript

Usage:
  lambda-kit run <handler-file> [options]   run one invocation of a handler locally
  lambda-kit emulate <function> [options]   a local Lambda: the Invoke API on 127.0.0.1
  lambda-kit invoke <name> [options]        invoke a function on a running emulator

Run 'lambda-kit <command> --help' for a command's options.`;

const RUN_USAGE = `lambda-kit run <handler-file> [options]

Runs the handler exported by <handler-file> (.ts or .js) under the lambda-kit
runtime loop, in its own process, against a Runtime API on 127.0.0.1, invokes
it once and prints the response on stdout. Function logs go to stderr.
Exits 1 when the function returns an error.

Options:
  --payload <json>        event payload (default {})
  --payload-file <file>   read the payload from a file ('-' for stdin)
  --export <name>         exported handler function (default handler)
  --timeout <seconds>     function timeout (default 3)
  --memory <mb>           memory size reported to the function (default 128)
  -h, --help              show this help`;

function positiveNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${flag} must be a positive number, got "${value}"`);
  return number;
}

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      payload: { type: 'string' },
      'payload-file': { type: 'string' },
      export: { type: 'string', default: 'handler' },
      timeout: { type: 'string' },
      memory: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  const [handlerFile, ...extra] = positionals;
  if (!handlerFile) throw new UsageError(`run needs a handler file, e.g. lambda-kit run examples/hello/handler.ts\n\n${RUN_USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const result = await runLocal(
    {
      handlerFile,
      exportName: values.export!,
      payload: readPayload(values.payload, values['payload-file']),
      timeoutSeconds: positiveNumber(values.timeout, '--timeout', 3),
      memoryMb: positiveNumber(values.memory, '--memory', 128),
    },
    (line) => process.stderr.write(`lambda-kit: ${line}\n`),
  );
  process.stdout.write(result.body + '\n');
  if (result.functionError) process.stderr.write('lambda-kit: the function returned an error\n');
  return result.functionError ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest);
      case 'emulate':
        return await emulateCommand(rest);
      case 'invoke':
        return await invokeCommand(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`lambda-kit: ${error.message}\n`);
      return error.exitCode;
    }
    if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`lambda-kit: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
