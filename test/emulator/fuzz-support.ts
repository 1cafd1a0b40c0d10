/**
 * What the fuzz tests of the emulator's two HTTP APIs share
 * (fuzz-invoke-api.test.ts, fuzz-runtime-api.test.ts): malformed HTTP
 * written on raw sockets, and what a server must do with it.
 */
import { connect } from 'node:net';
import fc from 'fast-check';

/** Bounds every property: a run stops at whichever comes first. No shrinking: a failure is reported as found. */
export const FUZZ_RUNS = { numRuns: 60, endOnFailure: true, plugins: [fc.interruptAfterTimeLimit(8000)] };

/** How long a server has to answer (or close) before it counts as hung: far beyond any answer here. */
export const HANG_MS = 5000;

export interface RawExchange {
  /** Everything the server sent. */
  bytes: Buffer;
  /** The server closed the connection (or reset it). */
  closed: boolean;
  /** Neither closed nor done within HANG_MS. */
  hung: boolean;
}

/**
 * Writes `pieces` on a fresh connection to 127.0.0.1:`port` (`gapMs` apart),
 * then half-closes it unless `end` is false, and reads until the server
 * closes it, or until `done(bytes)` says the answer is complete. With
 * `abort`, the connection is dropped as soon as the last piece is written.
 */
export function exchange(
  port: number,
  pieces: Array<string | Uint8Array>,
  options: { gapMs?: number; end?: boolean; abort?: boolean; done?: (bytes: Buffer) => boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean, hung = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed, hung });
    };
    const timer = setTimeout(() => finish(false, true), HANG_MS + (options.gapMs ?? 0) * pieces.length);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.done?.(Buffer.concat(chunks))) finish(false);
    });
    socket.on('close', () => finish(true));
    // A reset (the server gave up on the request) is a close too.
    socket.on('error', () => finish(true));
    socket.once('connect', async () => {
      for (const [index, piece] of pieces.entries()) {
        if (index > 0 && options.gapMs) await new Promise((resolve) => setTimeout(resolve, options.gapMs));
        if (settled) return;
        const last = index === pieces.length - 1;
        socket.write(piece, () => {
          if (last && options.abort) finish(true);
        });
      }
      if (options.end !== false && !options.abort) socket.end();
    });
  });
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The first HTTP/1.x response in `bytes`, once its head and (by Content-Length) its body are there. */
export function firstResponse(bytes: Buffer): ParsedResponse | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = bytes.subarray(headEnd + 4);
  if (body.byteLength < length) return undefined;
  return { status: Number(status[1]), headers, body: body.subarray(0, length) };
}

/** A complete answer has come: for exchange()'s `done`. */
export const answered = (bytes: Buffer) => firstResponse(bytes) !== undefined;

/** What may be written where a server expects an HTTP request: byte soup, broken request lines, broken headers. */
export const malformedHttp: fc.Arbitrary<Array<string | Uint8Array>> = fc.oneof(
  // Bytes, anything at all.
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => [bytes]),
  // A request line that is not one: a bad method token, spaces or controls in the target, a bad version.
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'P OST', 'POST\0', '', '\x7f', 'GE\tT', 'CONNECT'),
      fc.constantFrom('/', '/2015-03-31/functions/f/invocations', '*', 'http://[::1', '/a b', '/\x01', ''),
      fc.constantFrom('HTTP/1.1', 'HTTP/9.9', 'HTTP/1.1x', 'HTTP/', 'FTP/1.0', ''),
    )
    .map(([method, target, version]) => [`${method} ${target} ${version}\r\nHost: x\r\n\r\n`]),
  // A good request line, then header lines HTTP does not allow.
  fc
    .constantFrom(
      'No-Colon-Here',
      'Bad Name: x',
      ': no name',
      'X-Ctl: a\x00b',
      ' obs-fold: continued',
      'Content-Length: -1',
      'Content-Length: 12abc',
      'Content-Length: 99999999999999999999',
      'Content-Length: 2\r\nContent-Length: 3',
      'Transfer-Encoding: chunked\r\nContent-Length: 2',
      'Transfer-Encoding: gzip',
      'Transfer-Encoding: chunked',
    )
    .map((line) => [`POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\n${line}\r\n\r\nzz\r\n`]),
  // A chunked body whose chunk sizes are lies.
  fc
    .constantFrom('zz\r\n{}\r\n0\r\n\r\n', '2\r\n{}}}}\r\n0\r\n\r\n', 'ffffffffffffffff\r\n{}\r\n', '-2\r\n{}\r\n0\r\n\r\n')
    .map((body) => [`POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`]),
  // A body shorter than its Content-Length, then the end of the connection.
  fc.integer({ min: 1, max: 1000 }).map((missing) => [`POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 + missing}\r\n\r\n{}`]),
);

/** Headers far over Node's 16 KB limit: one huge header, or very many small ones. */
export const hugeHeaders: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 17_000, max: 200_000 }).map((size) => `X-Huge: ${'a'.repeat(size)}\r\n`),
  fc.integer({ min: 600, max: 3000 }).map((count) => Array.from({ length: count }, (_, index) => `X-H${index}: value\r\n`).join('')),
);

/**
 * What a server may do with a malformed request: answer 4xx (then, if it
 * likes, close), or close without answering. A 5xx, an answer that is not
 * HTTP, or neither within HANG_MS is a failure. Returns the response, if any.
 */
export function expectRefused(result: RawExchange, what: string): ParsedResponse | undefined {
  if (result.hung) throw new Error(`${what}: the server neither answered nor closed the connection within ${HANG_MS} ms`);
  if (result.bytes.byteLength === 0) return undefined;
  const response = firstResponse(result.bytes);
  if (!response)
    throw new Error(
      `${what}: the server answered something that is not HTTP: ${JSON.stringify(result.bytes.toString('latin1').slice(0, 200))}`,
    );
  if (response.status < 400 || response.status >= 500) {
    throw new Error(
      `${what}: answered ${response.status} (${response.body.toString('utf8').slice(0, 200)}); a malformed request gets a 4xx`,
    );
  }
  return response;
}

/** Strict JSON, as AWS parses payloads: bytes that are not UTF-8 are not JSON either. */
export function isStrictJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** Printable for a failure message. */
export const shown = (value: unknown) =>
  JSON.stringify(value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value)?.slice(0, 300);

/**
 * Runs `work` and fails with what went unhandled in this process meanwhile:
 * the servers run here, and an error they leave unhandled would end a
 * process of their own (`lambda-kit emulate`).
 */
export async function unhandledDuring<T>(work: () => Promise<T>): Promise<T> {
  const seen: unknown[] = [];
  const record = (error: unknown) => seen.push(error);
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  const unhandled = () => {
    const first = seen[0] as Error;
    return `${seen.length} error(s) went unhandled in the server, the first: ${first?.stack ?? String(first)}`;
  };
  try {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      // A request the server dropped when it threw fails (by timing out) after the throw: the throw is the news.
      if (seen.length > 0) throw new Error(`${unhandled()}\nand then: ${(error as Error).message}`, { cause: error });
      throw error;
    }
    // What a closed socket sets off comes a turn or two later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (seen.length > 0) throw new Error(unhandled());
    return result;
  } finally {
    process.off('unhandledRejection', record);
    process.off('uncaughtException', record);
  }
}
