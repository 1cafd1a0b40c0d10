import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * What the compatibility tests need to run AWS's own clients against the
 * emulator: the Node runtime interface client (aws-lambda-ric, whose native
 * addon scripts/setup.sh builds) and Debian's awscli.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The entry of aws-lambda-ric (its package.json "bin"), run unchanged. */
export const ricEntry = `${root}node_modules/aws-lambda-ric/index.mjs`;
const ricAddon = `${root}node_modules/aws-lambda-ric/rapid-client.node`;

/** Task root of the plain JavaScript handler module the RIC loads (_HANDLER=index.<export>). */
export const plainJsTaskRoot = fileURLToPath(new URL('../fixtures/functions/plain-js', import.meta.url));

/** Throws, saying what to run, when the RIC's native addon was not built. */
export function requireRic(): void {
  if (!existsSync(ricAddon)) {
    throw new Error(
      `aws-lambda-ric's native addon is missing (${ricAddon}): run \`bash scripts/setup.sh\`, ` +
        'which builds it against the headers of the Node that runs the tests',
    );
  }
}

/** Debian's awscli, by full path: another `aws` (pyenv, pip) may come first on PATH. */
export const AWS_CLI = '/usr/bin/aws';

export function requireAwsCli(): void {
  if (!existsSync(AWS_CLI)) {
    throw new Error(`${AWS_CLI} is missing: run \`bash scripts/setup.sh\` (it installs Debian's awscli), or apt-get install -y awscli`);
  }
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
  /** X-Amz-Log-Result, decoded. */
  log: () => string;
}

/** A raw Invoke API call, to check headers and bodies byte for byte. */
export async function invokeHttp(
  endpoint: string,
  name: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text),
    log: () => Buffer.from(response.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8'),
  };
}

export interface StreamAnswer {
  status: number;
  headers: Headers;
  /** The :event-type of each message, in order. */
  events: string[];
  /** Bytes of all PayloadChunk events together. */
  payloadBytes: number;
  /** The payload as text, up to its first 64 KB (a large stream is counted, not kept). */
  payload: string;
  /** The InvokeComplete event's fields. */
  complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string };
  /** LogResult, decoded. */
  log: () => string;
}

const KEPT_PAYLOAD_BYTES = 64 * 1024;

/** A raw InvokeWithResponseStream call, its event stream decoded as it arrives. */
export async function invokeStreamHttp(
  endpoint: string,
  name: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<StreamAnswer> {
  const { decodeEventMessages } = await import('../../src/emulator/apis/event-stream.ts');
  const response = await fetch(`${endpoint}/2021-11-15/functions/${encodeURIComponent(name)}/response-streaming-invocations`, {
    method: 'POST',
    body: JSON.stringify(payload),
    headers,
  });
  const events: string[] = [];
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let payloadBytes = 0;
  let complete: StreamAnswer['complete'] = {};
  // Joined only once a whole message is there: a large message comes in many reads.
  let parts: Buffer[] = [];
  let partsBytes = 0;
  for await (const chunk of response.body ?? []) {
    parts.push(Buffer.from(chunk));
    partsBytes += chunk.byteLength;
    if (partsBytes < 4) continue;
    const head = parts[0]!.byteLength >= 4 ? parts[0]! : Buffer.concat(parts);
    if (partsBytes < head.readUInt32BE(0)) continue;
    const decoded = decodeEventMessages(parts.length === 1 ? parts[0]! : Buffer.concat(parts, partsBytes));
    parts = decoded.rest.byteLength > 0 ? [decoded.rest] : [];
    partsBytes = decoded.rest.byteLength;
    for (const message of decoded.messages) {
      const event = message.headers[':event-type']!;
      events.push(event);
      if (event === 'PayloadChunk') {
        payloadBytes += message.payload.byteLength;
        if (keptBytes < KEPT_PAYLOAD_BYTES) {
          kept.push(message.payload.subarray(0, KEPT_PAYLOAD_BYTES - keptBytes));
          keptBytes += Math.min(message.payload.byteLength, KEPT_PAYLOAD_BYTES - keptBytes);
        }
      } else if (event === 'InvokeComplete') {
        complete = JSON.parse(message.payload.toString('utf8'));
      }
    }
  }
  return {
    status: response.status,
    headers: response.headers,
    events,
    payloadBytes,
    payload: Buffer.concat(kept).toString('utf8'),
    complete,
    log: () => Buffer.from(complete.LogResult ?? '', 'base64').toString('utf8'),
  };
}
