import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Emulator, prefixLines, type FunctionDefinition } from '../../emulator/emulator.ts';
import { UsageError } from '../errors.ts';

export const EMULATE_USAGE = `lambda-kit emulate [options] <handler-file | function.zip>
lambda-kit emulate [options] --image <image> [--platform linux/arm64]
lambda-kit emulate [options] --bootstrap -- <command> [args...]
lambda-kit emulate --config <functions.json>

Starts a local Lambda: the AWS Lambda Invoke API on 127.0.0.1 (point the AWS SDK
or CLI at it with --endpoint-url), each function in execution environments of its
own with the Runtime API, timeouts, crashes, cold starts and REPORT lines as in Lambda.
Runs until Ctrl-C.

Function source (one of):
  <handler-file>            a .ts/.js file served by the lambda-kit runtime loop, unbuilt
  <function.zip>            a built deployment package: bootstrap at its root
  --image <image>           a container image (run with host networking)
  --bootstrap -- <cmd...>   any runtime command (it reads AWS_LAMBDA_RUNTIME_API)
  --config <file>           several functions: {"functions":[{"name":..., "source":...}, ...]}

Options:
  --name <name>             function name (default: the handler's folder or the zip's name)
  --export <name>           exported handler of a handler file (default handler)
  --handler <value>         _HANDLER for the runtime (zip, image, bootstrap)
  --timeout <seconds>       function timeout (default 3)
  --memory <mb>             memory size, 128-10240 (default 128; a hard limit for images)
  --concurrency <n>         environments that may run at once (default 10); more invokes queue
  --runtime-concurrency <n> AWS_LAMBDA_MAX_CONCURRENCY for each runtime (default 1)
  --env KEY=VALUE           a function environment variable (repeatable)
  --platform <platform>     linux/amd64 or linux/arm64 for --image
  --port <port>             Invoke API port (default 9001; 0 picks a free one)
  --host <address>          bind address (default 127.0.0.1; only change it on purpose)
  -h, --help                show this help`;

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new UsageError(`${flag} must be a non-negative number, got "${value}"`);
  return number;
}

export function parseEmulateArgs(args: string[]): { definitions: FunctionDefinition[]; host: string; port: number } | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      image: { type: 'string' },
      platform: { type: 'string' },
      bootstrap: { type: 'boolean' },
      name: { type: 'string' },
      export: { type: 'string', default: 'handler' },
      handler: { type: 'string' },
      timeout: { type: 'string' },
      memory: { type: 'string' },
      concurrency: { type: 'string' },
      'runtime-concurrency': { type: 'string' },
      env: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const port = numberFlag(values.port, '--port') ?? 9001;
  if (values.config) {
    let config: { functions?: FunctionDefinition[] };
    try {
      config = JSON.parse(readFileSync(values.config, 'utf8'));
    } catch (error) {
      throw new UsageError(`cannot read --config ${values.config}: ${(error as Error).message}`);
    }
    if (!Array.isArray(config.functions) || config.functions.length === 0) {
      throw new UsageError(`--config ${values.config} must hold {"functions": [ ... ]} with at least one function`);
    }
    return { definitions: config.functions, host: values.host!, port };
  }
  let source: FunctionDefinition['source'];
  let defaultName: string;
  if (values.image) {
    if (positionals.length > 0) throw new UsageError(`--image takes no other source, got ${positionals.join(' ')}`);
    source = { image: values.image, ...(values.platform && { platform: values.platform as 'linux/amd64' }) };
    defaultName = basename(values.image.split(':')[0]!);
  } else if (values.bootstrap) {
    if (positionals.length === 0) throw new UsageError('--bootstrap needs a command after --, e.g. --bootstrap -- ./bootstrap');
    source = { command: positionals, taskRoot: process.cwd() };
    defaultName = basename(positionals[0]!);
  } else {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError(`emulate needs a function: a handler file, a zip, --image or --bootstrap\n\n${EMULATE_USAGE}`);
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (extname(file) === '.zip') {
      source = { zip: file };
      defaultName = basename(file, '.zip');
    } else {
      source = { handlerFile: file, exportName: values.export! };
      defaultName = basename(dirname(resolve(file)));
    }
  }
  const environment: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--env takes KEY=VALUE, got "${pair}"`);
    environment[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  const definition: FunctionDefinition = {
    name: values.name ?? defaultName.replace(/[^a-zA-Z0-9_-]/g, '-'),
    source,
    environment,
  };
  const timeout = numberFlag(values.timeout, '--timeout');
  const memory = numberFlag(values.memory, '--memory');
  const concurrency = numberFlag(values.concurrency, '--concurrency');
  const runtimeConcurrency = numberFlag(values['runtime-concurrency'], '--runtime-concurrency');
  if (timeout !== undefined) definition.timeoutSeconds = timeout;
  if (memory !== undefined) definition.memoryMb = memory;
  if (concurrency !== undefined) definition.maxEnvironments = concurrency;
  if (runtimeConcurrency !== undefined) definition.runtimeConcurrency = runtimeConcurrency;
  if (values.handler !== undefined) definition.handler = values.handler;
  return { definitions: [definition], host: values.host!, port };
}

export async function emulateCommand(args: string[]): Promise<number> {
  const parsed = parseEmulateArgs(args);
  if (parsed === 'help') {
    console.log(EMULATE_USAGE);
    return 0;
  }
  const say = (line: string) => process.stderr.write(`lambda-kit: ${line}\n`);
  say(`starting the emulator for ${parsed.definitions.map((definition) => definition.name).join(', ')}...`);
  let emulator: Emulator;
  try {
    emulator = await Emulator.start({
      functions: parsed.definitions,
      host: parsed.host,
      port: parsed.port,
      log: (name, line) => process.stderr.write(prefixLines(name, line)),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${parsed.port} is in use: pass --port <another>, or --port 0 for a free one`);
    }
    throw error;
  }
  say(`Invoke API listening on ${emulator.endpoint} (functions: ${emulator.functionNames.join(', ')})`);
  say(`try: lambda-kit invoke ${emulator.functionNames[0]} --endpoint ${emulator.endpoint} --payload '{}' --tail`);
  // For scripts that start the emulator and wait for it: one machine-readable line on stdout.
  process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint, functions: emulator.functionNames })}\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  say('shutting down: SHUTDOWN to extensions, SIGTERM within their window, then SIGKILL...');
  await emulator.close();
  return 0;
}
