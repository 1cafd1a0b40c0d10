import { parseArgs } from 'node:util';
import { basename, dirname, resolve } from 'node:path';
import { Emulator } from '../../emulator/emulator.ts';
import { UsageError } from '../errors.ts';
import { readPayload } from '../payload.ts';

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
  const file = resolve(options.handlerFile);
  // A zip is named after itself (hello.zip: hello), a source file after its folder (examples/hello/handler.ts: hello).
  const functionName =
    (file.endsWith('.zip') ? basename(file, '.zip') : basename(dirname(file))).replace(/[^a-zA-Z0-9_-]/g, '-') || 'function';
  const emulator = await Emulator.start({
    functions: [
      {
        name: functionName,
        // A built zip runs as Lambda runs it (its bootstrap); a source file under the runtime loop, unbuilt.
        source: options.handlerFile.endsWith('.zip')
          ? { zip: options.handlerFile }
          : { handlerFile: options.handlerFile, exportName: options.exportName },
        timeoutSeconds: options.timeoutSeconds,
        memoryMb: options.memoryMb,
      },
    ],
    // Function logs go to stderr so that stdout carries only the response.
    log: (_name, line) => process.stderr.write(`${line}\n`),
  });
  try {
    const started = Date.now();
    const result = await emulator.invoke(functionName, { payload: options.payload });
    log(`invoked ${functionName}.${options.exportName} in ${Date.now() - started} ms (including start-up)`);
    return { functionError: result.functionError, body: result.body.toString('utf8') };
  } finally {
    await emulator.close();
  }
}

const RUN_USAGE = `lambda-kit run <handler-file | function.zip> [options]

Runs the handler exported by <handler-file> (.ts or .js) under the lambda-kit
runtime loop, or a zip built by lambda-kit build (its own bootstrap), in its
own process against a Runtime API on 127.0.0.1, invokes it once and prints the
response on stdout. Function logs go to stderr.
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

export async function runCommand(args: string[]): Promise<number> {
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
  process.stdout.write(`${result.body}\n`);
  if (result.functionError) process.stderr.write('lambda-kit: the function returned an error\n');
  return result.functionError ? 1 : 0;
}
