#!/usr/bin/env node
import { EXIT_CODE, isCodedError } from '../platform/errors.ts';
import { UsageError } from './errors.ts';

const USAGE = `lambda-kit: build, run and test AWS Lambda functions written in TypeScript

Usage:
  lambda-kit build [entry|name] [options]   build functions into deployable zips (x86_64 / arm64)
  lambda-kit run <handler-file> [options]   run one invocation of a handler locally
  lambda-kit emulate <function> [options]   a local Lambda: the Invoke API on 127.0.0.1
  lambda-kit invoke <name> [options]        invoke a function on a running emulator

Run 'lambda-kit <command> --help' for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Each command loads only its own modules: a build never needs the emulator, undici or dockerode.
      case 'build':
        return await (await import('./commands/build.ts')).buildCommand(rest);
      case 'run':
        return await (await import('./commands/run.ts')).runCommand(rest);
      case 'emulate':
        return await (await import('./commands/emulate.ts')).emulateCommand(rest);
      case 'invoke':
        return await (await import('./commands/invoke.ts')).invokeCommand(rest);
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
    // Every area's errors carry their kind: bad input exits 2, a failure 1 (docs/errors.md).
    if (isCodedError(error)) {
      process.stderr.write(`lambda-kit: ${error.message}\n`);
      return EXIT_CODE[error.kind];
    }
    if ((error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`lambda-kit: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
