import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './errors.ts';

/** The payload of `run` and `invoke`: --payload, --payload-file (or '-' for stdin), else {}; refused unless JSON, as Lambda refuses it. */
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

/** A payload piped on stdin, when stdin is not a terminal and holds something. */
export function stdinPayload(): string | undefined {
  if (process.stdin.isTTY) return undefined;
  try {
    const text = readFileSync(0, 'utf8');
    return text.trim() === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
