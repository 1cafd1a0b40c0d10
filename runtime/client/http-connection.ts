import type { Socket } from 'node:net';
import { RuntimeApiConnectionError, RuntimeApiProtocolError } from '../errors.ts';
// See ../loop/handler-loader.ts: built-ins come from process.getBuiltinModule.
const { connect } = process.getBuiltinModule('node:net');
const { isAscii } = process.getBuiltinModule('node:buffer');

/**
 * One persistent HTTP/1.1 connection to the Runtime API, one request at a time.
 *
 * The Runtime API is a loopback server with a fixed, tiny protocol surface, so a
 * purpose-built client over node:net beats node:http and fetch on both cold start
 * (nothing beyond node:net is loaded) and CPU per invoke (no parser objects,
 * agents or header validation per request); bench/runtime-client.ts measures it.
 */

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  /** The values of the fields named by the request's `picks` (see HttpConnection.send), in that order. */
  picked: Array<string | undefined> | undefined;
  /** Decoded as UTF-8: what the Runtime and Extensions APIs send is JSON or plain text. */
  body: string;
}

/** Node-style completion: called once, with the result or why there is none. */
export type Done<T> = (error: Error | undefined, value?: T) => void;

const CRLF = '\r\n';
const HEAD_END = '\r\n\r\n';
const MAX_HEAD_BYTES = 64 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * A response's header fields. Every response pays for reading its head, so
 * nothing is read here until a field is asked for; the runtime loop has what
 * it needs picked out as the head is parsed (HttpConnection.send's picks).
 */
export class ResponseHeaders {
  readonly #text: string;
  /** Where the field lines start: after the status line. */
  readonly #start: number;

  constructor(text: string, start: number) {
    this.#text = text;
    this.#start = start;
  }

  /** The value of the field `name` (any letter case), repeated fields joined with ", ". */
  get(name: string): string | undefined {
    const picked: Array<string | undefined> = [undefined];
    pickFields(this.#text, this.#start, [name], picked);
    return picked[0];
  }
}

/**
 * Reads the field lines of a head from `start` to its blank line, and puts
 * the value of each field named in `picks` (any letter case, trimmed,
 * repeated fields joined with ", " as RFC 9110 5.3 says) at its index in
 * `picked`. Returns where the blank line starts, or -1 while the head has
 * yet to arrive whole. No regex, split or Map, nothing lower-cased, and no
 * value cut out that was not asked for: every response of the runtime loop
 * goes through here.
 */
function pickFields(text: string, start: number, picks: readonly string[], picked: Array<string | undefined>): number {
  for (;;) {
    const stop = text.indexOf(CRLF, start);
    if (stop === -1 || stop === start) return stop;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < stop) {
      // Names are compared by length first: one length is mostly one name.
      const nameLength = trimEnd(text, start, colon) - start;
      for (let i = 0; i < picks.length; i++) {
        const name = picks[i]!;
        if (name.length === nameLength && isNamed(text, start, name)) {
          const value = text.slice(trimStart(text, colon + 1, stop), trimEnd(text, colon + 1, stop));
          picked[i] = picked[i] === undefined ? value : `${picked[i]}, ${value}`;
          break;
        }
      }
    }
    start = stop + 2;
  }
}

/** The end of text[start, end) without trailing spaces and tabs. */
function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  return end;
}

/** The start of text[start, end) without leading spaces and tabs. */
function trimStart(text: string, start: number, end: number): number {
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  return start;
}

/**
 * Whether the field name at `start` of `text` is `name` in any letter case.
 * Letter by letter only when it is not spelled exactly so, and then from the
 * end: names of one length mostly share a prefix ("Lambda-Runtime-"), so a
 * different name shows in its last letters.
 */
function isNamed(text: string, start: number, name: string): boolean {
  // Spelled exactly so, indexOf finds it at `start` in one native compare. Measured in the warm loop, startsWith(name, start)
  // and a slice compared with === (a sliced string: V8's slow string equality) both cost several times more.
  if (text.indexOf(name, start) === start) return true;
  for (let i = name.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(start + i);
    const wanted = name.charCodeAt(i);
    if (code === wanted) continue;
    // | 32 lower-cases an ASCII letter; anything else must have been equal.
    const lower = code | 32;
    if (lower !== (wanted | 32) || lower < 97 || lower > 122) return false;
  }
  return true;
}

export class HttpConnection {
  readonly host: string;
  readonly port: number;
  #socket: Socket | undefined;
  /** Reused by every read of this connection's socket. */
  #readBuffer: Buffer | undefined;
  /** Bytes of a response that came in earlier reads (copies, not views of the read buffer). */
  #chunks: Buffer[] = [];
  #buffered = 0;
  #pending: Done<HttpResponse> | undefined;
  /** What the head of the response in flight is read for: FRAMING, then the request's picks, if it has any. */
  #names: readonly string[] = FRAMING;
  /** The last picks asked for, and FRAMING with them: the runtime loop alternates /next (picks) and its answer (none). */
  #lastPicks: readonly string[] | undefined;
  #lastPickedNames: readonly string[] = FRAMING;
  /** Parsed head of the response being received, kept while its body arrives. */
  #head: ParsedHead | undefined;

  #keepsProcessAlive = true;
  /** The last bodiless request as written (head and blank line): the runtime loop sends the same GET /next every time. */
  #bodilessHead = '';
  #bodilessRequest = '';

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** "host:port" as in AWS_LAMBDA_RUNTIME_API, IPv6 brackets allowed. */
  static fromAuthority(authority: string): HttpConnection {
    const colon = authority.lastIndexOf(':');
    const host = colon === -1 ? authority : authority.slice(0, colon);
    const port = colon === -1 ? 80 : Number(authority.slice(colon + 1));
    return new HttpConnection(host.replace(/^\[|\]$/g, ''), port);
  }

  /**
   * Whether a request in flight keeps the process alive. False for one that
   * may wait for ever with no reason to hold the process (an idle extension's next).
   */
  keepProcessAlive(keep: boolean): void {
    this.#keepsProcessAlive = keep;
    if (keep) this.#socket?.ref();
    else this.#socket?.unref();
  }

  /** Sends a whole request (head and body in one write) and resolves with the whole response. */
  request(head: string, body?: string | Buffer): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      this.send(head, body, (error, response) => (error ? reject(error) : resolve(response!)));
    });
  }

  /**
   * request() for the runtime loop's hot path: `done` is called straight from
   * the socket's read callback, with no promise jobs between the response and the
   * caller's next step. The values of the fields named in `picks` are read
   * along with the head (response.picked): cheaper than asking
   * response.headers for each, when every response is asked for the same.
   */
  send(head: string, body: string | Buffer | undefined, done: Done<HttpResponse>, picks?: readonly string[]): void {
    this.#expectResponse(done, picks);
    const socket = this.#connected();
    if (body === undefined) {
      if (head !== this.#bodilessHead) {
        this.#bodilessHead = head;
        this.#bodilessRequest = head + CRLF;
      }
      socket.write(this.#bodilessRequest);
    } else if (typeof body === 'string') {
      socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}${CRLF}${CRLF}${body}`);
    } else {
      socket.cork();
      socket.write(`${head}Content-Length: ${body.byteLength}${CRLF}${CRLF}`);
      socket.write(body);
      socket.uncork();
    }
  }

  /**
   * Starts a request whose body is sent with chunked transfer encoding. The caller
   * writes chunks and finally ends the body, optionally with trailers.
   */
  openChunkedRequest(head: string): ChunkedRequestBody {
    const response = new Promise<HttpResponse>((resolve, reject) => {
      this.#expectResponse((error, answer) => (error ? reject(error) : resolve(answer!)));
    });
    const socket = this.#connected();
    socket.write(`${head}Transfer-Encoding: chunked${CRLF}${CRLF}`);
    return new ChunkedRequestBody(socket, response);
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #expectResponse(done: Done<HttpResponse>, picks?: readonly string[]): void {
    if (this.#pending) {
      throw new RuntimeApiProtocolError('a request is already in flight on this connection');
    }
    this.#pending = done;
    if (picks === undefined) {
      this.#names = FRAMING;
      return;
    }
    if (picks !== this.#lastPicks) {
      this.#lastPicks = picks;
      this.#lastPickedNames = [...FRAMING, ...picks];
    }
    this.#names = this.#lastPickedNames;
  }

  #connected(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    // onread: bytes go straight to #onRead, skipping the Readable stream machinery (and its buffering) on every response.
    const socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      keepAlive: true,
      onread: {
        buffer: (this.#readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES)),
        callback: (length, read) => {
          // `read` is the buffer given above.
          this.#onRead(length, read as Buffer);
          return true;
        },
      },
    });
    if (!this.#keepsProcessAlive) socket.unref();
    this.#chunks = [];
    this.#buffered = 0;
    this.#head = undefined;
    // A socket given up for a newer one (after Connection: close) may still report its end: the request in flight is not its.
    const replaced = () => this.#socket !== undefined && this.#socket !== socket;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (replaced()) return;
      this.#fail(
        new RuntimeApiConnectionError(
          `cannot reach the Runtime API at ${this.host}:${this.port} (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    socket.on('close', () => {
      if (replaced()) return;
      this.#socket = undefined;
      this.#fail(
        new RuntimeApiConnectionError(
          `the Runtime API at ${this.host}:${this.port} closed the connection before answering`,
        ),
      );
    });
    this.#socket = socket;
    return socket;
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    this.#head = undefined;
    this.#chunks = [];
    this.#buffered = 0;
    pending?.(error);
  }

  /**
   * Bytes from the socket. `read` is the connection's read buffer, which the
   * next read overwrites: what outlives this call (a partial response, the
   * body handed to the caller) is copied out of it.
   */
  #onRead(length: number, read: Buffer): void {
    let response: HttpResponse | undefined;
    try {
      if (this.#chunks.length === 0) {
        response = this.#parse(read, length, false);
      } else {
        this.#chunks.push(Buffer.from(read.subarray(0, length)));
        this.#buffered += length;
        // A large body comes in many reads: join them once it is all here, not on every read.
        const head = this.#head;
        if (head && !head.chunked && this.#buffered < head.bodyStart + head.contentLength) return;
        const data = Buffer.concat(this.#chunks, this.#buffered);
        this.#chunks = [];
        this.#buffered = 0;
        response = this.#parse(data, data.byteLength, true);
      }
    } catch (error) {
      this.#socket?.destroy();
      this.#fail(error as Error);
      return;
    }
    if (!response) return;
    const pending = this.#pending;
    this.#pending = undefined;
    // Outside the try: what the caller does next (often the next request) is not a parse failure.
    pending?.(undefined, response);
  }

  /**
   * The response in the first `length` bytes of `data` (everything received
   * since the last response), or undefined, keeping those bytes, while some of
   * it has yet to arrive. `owned`: whether `data` is ours to keep, or the read
   * buffer (read in place: a view of it would cost more than the parse).
   */
  #parse(data: Buffer, length: number, owned: boolean): HttpResponse | undefined {
    if (!this.#head && length <= READ_BUFFER_BYTES) {
      // The usual response is ASCII and whole in one read. Decoded as UTF-8, its text has one char per byte
      // exactly when every byte is one char (ASCII, or a stray byte read as U+FFFD, which a UTF-8 body gets anyway):
      // then offsets in the text are offsets in the bytes, and one decode serves head and body.
      const text = data.toString('utf8', 0, length);
      if (text.length === length) {
        const head = parseHead(text, this.#names);
        if (head) {
          const consumed = head.bodyStart + head.contentLength;
          if (!head.chunked && consumed <= length) return this.#complete(head, text.slice(head.bodyStart, consumed), data, consumed, length, owned);
          this.#head = head;
        }
      }
    }
    if (!this.#head) {
      // latin1 is one char per byte, so offsets in the text are offsets in the buffer.
      const head = parseHead(data.toString('latin1', 0, Math.min(length, MAX_HEAD_BYTES + HEAD_END.length)), this.#names);
      if (!head) {
        if (length > MAX_HEAD_BYTES) {
          throw new RuntimeApiProtocolError('response head from the Runtime API exceeds 64 KiB');
        }
        return this.#keep(data, 0, length, owned);
      }
      // Some values are UTF-8 JSON (client context, identity): a head with other bytes than ASCII is read again as
      // UTF-8; the body still starts at its byte offset.
      this.#head = isAscii(new Uint8Array(data.buffer, data.byteOffset, head.bodyStart))
        ? head
        : { ...parseHead(data.toString('utf8', 0, head.bodyStart), this.#names)!, bodyStart: head.bodyStart };
    }
    const head = this.#head;
    let body: string;
    let consumed: number;
    if (head.chunked) {
      const decoded = decodeChunked(data.subarray(0, length), head.bodyStart);
      if (!decoded) return this.#keep(data, 0, length, owned);
      body = decoded.body.toString('utf8');
      consumed = decoded.consumed;
    } else {
      consumed = head.bodyStart + head.contentLength;
      if (length < consumed) return this.#keep(data, 0, length, owned);
      // A string: nothing keeps a view of the read buffer.
      body = data.toString('utf8', head.bodyStart, consumed);
    }
    return this.#complete(head, body, data, consumed, length, owned);
  }

  /** The response whose head and body are read; bytes after it (`consumed` up to `length`) are kept. */
  #complete(head: ParsedHead, body: string, data: Buffer, consumed: number, length: number, owned: boolean): HttpResponse {
    // The Runtime API answers one request at a time; anything after the response is kept all the same.
    if (consumed < length) this.#keep(data, consumed, length, owned);
    this.#head = undefined;
    if (head.close) this.close();
    return { status: head.status, headers: head.headers, picked: head.picked, body };
  }

  #keep(data: Buffer, start: number, end: number, owned: boolean): undefined {
    const kept = owned ? data.subarray(start, end) : Buffer.from(data.subarray(start, end));
    this.#chunks = [kept];
    this.#buffered = kept.byteLength;
    return undefined;
  }
}

export class ChunkedRequestBody {
  readonly response: Promise<HttpResponse>;
  #socket: Socket;
  #ended = false;

  constructor(socket: Socket, response: Promise<HttpResponse>) {
    this.#socket = socket;
    this.response = response;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Writes one chunk; resolves once the socket can take more (backpressure). */
  write(data: Buffer | Uint8Array | string): Promise<void> | undefined {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (length === 0 || this.#ended) return undefined;
    const socket = this.#socket;
    socket.cork();
    socket.write(length.toString(16) + CRLF);
    socket.write(data);
    const flushed = socket.write(CRLF);
    socket.uncork();
    if (flushed || socket.destroyed) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** Ends the body with the zero-length chunk and, if given, HTTP trailers. */
  end(trailers?: Record<string, string>): void {
    if (this.#ended) return;
    this.#ended = true;
    let tail = '0' + CRLF;
    if (trailers) {
      for (const [name, value] of Object.entries(trailers)) tail += `${name}: ${value}${CRLF}`;
    }
    this.#socket.write(tail + CRLF);
  }
}

interface ParsedHead {
  status: number;
  headers: ResponseHeaders;
  /** The values of the fields the request picked (see HttpConnection.send), in its order. */
  picked: Array<string | undefined> | undefined;
  bodyStart: number;
  contentLength: number;
  chunked: boolean;
  close: boolean;
}

const isDigit = (code: number) => code >= 48 && code <= 57;
const isBlank = (code: number) => code === 32 || code === 9;

/** The fields that frame a body, picked out of every head ahead of what the request asks for. */
const FRAMING = ['Content-Length', 'Transfer-Encoding', 'Connection'] as const;

/**
 * The head at the start of `text` (status line and fields), or undefined
 * while its blank line has yet to arrive. Its fields are read once, for
 * `names`: FRAMING, then what the request picks, if it does.
 */
function parseHead(text: string, names: readonly string[]): ParsedHead | undefined {
  const statusEnd = text.indexOf(CRLF);
  if (statusEnd === -1) return undefined;
  const values: Array<string | undefined> = new Array(names.length);
  const blankLine = pickFields(text, statusEnd + 2, names, values);
  if (blankLine === -1) return undefined;
  // "HTTP/1.x DDD"
  if (
    !text.startsWith('HTTP/1.') ||
    (text[7] !== '0' && text[7] !== '1') ||
    text[8] !== ' ' ||
    !isDigit(text.charCodeAt(9)) ||
    !isDigit(text.charCodeAt(10)) ||
    !isDigit(text.charCodeAt(11)) ||
    (statusEnd > 12 && text[12] !== ' ')
  ) {
    throw new RuntimeApiProtocolError(`malformed status line from the Runtime API: ${JSON.stringify(text.slice(0, statusEnd))}`);
  }
  return {
    status: (text.charCodeAt(9) - 48) * 100 + (text.charCodeAt(10) - 48) * 10 + (text.charCodeAt(11) - 48),
    headers: new ResponseHeaders(text, statusEnd + 2),
    picked: names === FRAMING ? undefined : values.slice(FRAMING.length),
    bodyStart: blankLine + 2,
    contentLength: values[0] === undefined ? 0 : parseContentLength(values[0]),
    chunked: values[1] !== undefined && hasToken(values[1], 'chunked'),
    close: values[2] !== undefined && hasToken(values[2], 'close'),
  };
}

/** Whether the comma-separated list `value` holds `token` (any letter case). */
function hasToken(value: string, token: string): boolean {
  return value.split(',').some((item) => item.trim().toLowerCase() === token);
}

/**
 * A Content-Length value: decimal digits only, within what a safe integer
 * holds. Repeated fields (or a list) must all say the same (RFC 9110 8.6).
 */
function parseContentLength(value: string): number {
  if (!value.includes(',')) return parseDigits(value);
  const [first, ...rest] = value.split(',').map((item) => parseDigits(item.trim()));
  const other = rest.find((length) => length !== first);
  if (other !== undefined) {
    throw new RuntimeApiProtocolError(`conflicting Content-Length fields from the Runtime API: ${first} and ${other}`);
  }
  return first!;
}

/** Decimal digits (a digit loop: a fraction of Number()'s cost), else a RuntimeApiProtocolError. */
function parseDigits(digits: string): number {
  let parsed = digits.length === 0 ? Number.NaN : 0;
  for (let i = 0; i < digits.length; i++) {
    const code = digits.charCodeAt(i);
    parsed = isDigit(code) ? parsed * 10 + (code - 48) : Number.NaN;
  }
  if (!Number.isSafeInteger(parsed)) throw new RuntimeApiProtocolError(`invalid Content-Length from the Runtime API: ${digits}`);
  return parsed;
}

/** Decodes a complete chunked body starting at `start`, or returns undefined if more bytes are needed. */
function decodeChunked(data: Buffer, start: number): { body: Buffer; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = data.indexOf(CRLF, offset);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (Number.isNaN(size)) throw new RuntimeApiProtocolError('malformed chunk size from the Runtime API');
    offset = lineEnd + 2;
    if (size === 0) {
      // Skip trailers up to the empty line.
      for (;;) {
        const end = data.indexOf(CRLF, offset);
        if (end === -1) return undefined;
        if (end === offset) return { body: Buffer.concat(parts), consumed: end + 2 };
        offset = end + 2;
      }
    }
    if (data.byteLength < offset + size + 2) return undefined;
    parts.push(data.subarray(offset, offset + size));
    offset += size + 2;
  }
}
