import { parseArgs } from 'node:util';
import { request } from 'undici';
import { invokePath, streamInvokePath } from '../../../runtime/protocol/index.ts';
import { decodeEventMessages } from '../../emulator/apis/event-stream.ts';
import { CliError, UsageError } from '../errors.ts';
import { readPayload, stdinPayload } from '../payload.ts';

export const INVOKE_USAGE = `lambda-kit invoke <function> [options]

Invokes a function through the Lambda Invoke API of a running emulator
(lambda-kit emulate) and prints the response on stdout. Exits 1 when the
function returned an error (X-Amz-Function-Error) or the API failed (5xx), 2 on
bad input, the API's refusals included (unknown function, payload too large, ...:
its errorType is printed).

Options:
  --payload <json>          event payload
  --payload-file <file>     read the payload from a file ('-' for stdin)
                            (with neither, a payload piped on stdin is read; else {})
  --endpoint <url>          Invoke API (default $LAMBDA_KIT_ENDPOINT or http://127.0.0.1:9001)
  --tail                    print the invocation's log tail (last 4 KB) on stderr
  --event                   asynchronous invoke (X-Amz-Invocation-Type: Event): 202, no response
  --stream                  InvokeWithResponseStream: print the body as it arrives
  --client-context <json>   client context passed to the function
  -h, --help                show this help`;

const EXIT_FUNCTION_ERROR = 1;

export async function invokeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      payload: { type: 'string' },
      'payload-file': { type: 'string' },
      endpoint: { type: 'string' },
      tail: { type: 'boolean' },
      event: { type: 'boolean' },
      stream: { type: 'boolean' },
      'client-context': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(INVOKE_USAGE);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (!name) throw new UsageError(`invoke needs a function name\n\n${INVOKE_USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (values.event && values.stream) throw new UsageError('--event and --stream do not go together');
  const fromStdin = values.payload === undefined && values['payload-file'] === undefined ? stdinPayload() : undefined;
  const payload = readPayload(values.payload ?? fromStdin, values['payload-file']);
  const endpoint = values.endpoint ?? process.env.LAMBDA_KIT_ENDPOINT ?? 'http://127.0.0.1:9001';
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint must be a URL like http://127.0.0.1:9001, got "${endpoint}"`);
  }
  const headers: Record<string, string> = {};
  if (values.tail) headers['x-amz-log-type'] = 'Tail';
  if (values.event) headers['x-amz-invocation-type'] = 'Event';
  if (values['client-context'] !== undefined) {
    try {
      JSON.parse(values['client-context']);
    } catch {
      throw new UsageError('--client-context must be a JSON object');
    }
    headers['x-amz-client-context'] = Buffer.from(values['client-context']).toString('base64');
  }
  const path = values.stream ? streamInvokePath(name) : invokePath(name);

  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(new URL(path, base), { method: 'POST', body: payload, headers, headersTimeout: 0, bodyTimeout: 0 });
  } catch (error) {
    throw new CliError(
      'LK_CLI_ENDPOINT_UNREACHABLE',
      `no Lambda Invoke API answers at ${base.origin} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ` +
        'start one with `lambda-kit emulate <handler>` or pass --endpoint',
    );
  }
  if (response.statusCode >= 300) {
    const text = await response.body.text();
    let message = text;
    try {
      // Lambda spells it per error type, as its API model does: Message (ResourceNotFoundException) or message.
      const body = JSON.parse(text) as { message?: string; Message?: string };
      message = body.message ?? body.Message ?? text;
    } catch {
      // Not JSON: show it as it is.
    }
    throw new CliError(
      response.statusCode < 500 ? 'LK_CLI_INVOKE_REFUSED' : 'LK_CLI_INVOKE_FAILED',
      `${response.headers['x-amzn-errortype'] ?? `HTTP ${response.statusCode}`}: ${message}`,
    );
  }
  if (values.event) {
    await response.body.dump();
    process.stderr.write(`lambda-kit: queued (202), request id ${response.headers['x-amzn-requestid']}\n`);
    return 0;
  }
  if (values.stream) return printStream(response.body, Boolean(values.tail));

  const body = await response.body.text();
  process.stdout.write(`${body}\n`);
  if (values.tail) printTail(response.headers['x-amz-log-result']);
  if (response.headers['x-amz-function-error']) {
    process.stderr.write('lambda-kit: the function returned an error\n');
    return EXIT_FUNCTION_ERROR;
  }
  return 0;
}

function printTail(encoded: string | string[] | undefined): void {
  if (typeof encoded !== 'string') return;
  process.stderr.write(Buffer.from(encoded, 'base64').toString('utf8'));
}

async function printStream(body: AsyncIterable<Buffer>, tail: boolean): Promise<number> {
  let pending: Buffer = Buffer.alloc(0);
  let failed = false;
  for await (const chunk of body) {
    const { messages, rest } = decodeEventMessages(Buffer.concat([pending, chunk]));
    pending = rest;
    for (const message of messages) {
      const type = message.headers[':event-type'];
      if (type === 'PayloadChunk') process.stdout.write(message.payload);
      if (type === 'InvokeComplete') {
        const complete = JSON.parse(message.payload.toString('utf8')) as { ErrorCode?: string; ErrorDetails?: string; LogResult?: string };
        if (tail) printTail(complete.LogResult);
        if (complete.ErrorCode) {
          failed = true;
          process.stderr.write(`\nlambda-kit: the function failed mid-stream: ${complete.ErrorCode} ${complete.ErrorDetails ?? ''}\n`);
        }
      }
    }
  }
  return failed ? EXIT_FUNCTION_ERROR : 0;
}
