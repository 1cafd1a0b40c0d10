/**
 * The head of a response from the Runtime or Extensions API: status line,
 * the fields that frame its body, and the fields the request picked. Every
 * response of the runtime loop goes through here, so nothing is read that was
 * not asked for: no regex, split or Map, nothing lower-cased, no value cut
 * out unasked.
 */
import { RuntimeApiProtocolError } from '../errors.ts';

/**
 * The end of a line of an HTTP/1.1 head, and of a chunk's size and data, for every file of the client. Templates
 * spell it \r\n in their text: a constant from another file is not folded into a template, but written in it whole.
 */
export const CRLF = '\r\n';

/** The blank line that ends a head. */
export const HEAD_END = '\r\n\r\n';
export const MAX_HEAD_BYTES = 64 * 1024;

/**
 * A whole response, as the connection hands it over: its status, the fields
 * its request picked, its body. No other field of the head is read or kept.
 */
export interface ApiResponse {
  status: number;
  /** The values of the fields named by the request's `picks` (see ApiConnection.send), in that order. */
  picked: Array<string | undefined> | undefined;
  /** Decoded as UTF-8: what the Runtime and Extensions APIs send is JSON or plain text. */
  body: string;
}

export interface ParsedHead {
  status: number;
  /** The values of the fields the request picked (see ApiConnection.send), in its order. */
  picked: Array<string | undefined> | undefined;
  bodyStart: number;
  contentLength: number;
  chunked: boolean;
  close: boolean;
}

/** The fields that frame a body, picked out of every head ahead of what the request asks for. */
export const FRAMING = ['Content-Length', 'Transfer-Encoding', 'Connection'] as const;

const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * The head at the start of `text` (status line and fields), or undefined
 * while its blank line has yet to arrive. Its fields are read once, for
 * `names`: FRAMING, then what the request picks, if it does.
 */
export function parseHead(text: string, names: readonly string[]): ParsedHead | undefined {
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

/** Decimal digits (a digit loop costs less than Number()), else a RuntimeApiProtocolError. */
function parseDigits(digits: string): number {
  let parsed = digits.length === 0 ? Number.NaN : 0;
  for (let i = 0; i < digits.length; i++) {
    const code = digits.charCodeAt(i);
    parsed = isDigit(code) ? parsed * 10 + (code - 48) : Number.NaN;
  }
  if (!Number.isSafeInteger(parsed)) throw new RuntimeApiProtocolError(`invalid Content-Length from the Runtime API: ${digits}`);
  return parsed;
}

/**
 * Reads the field lines of a head from `start` to its blank line, and puts
 * the value of each field named in `picks` (any letter case, trimmed,
 * repeated fields joined with ", " as RFC 9110 5.3 says) at its index in
 * `picked`. Returns where the blank line starts, or -1 while the head has
 * yet to arrive whole.
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

const isBlank = (code: number) => code === 32 || code === 9;

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
  // Spelled exactly so, indexOf finds it at `start` in one native compare; startsWith(name, start) and a slice
  // compared with === (a sliced string: V8's slow string equality) cost more in the warm loop (see bench/README.md).
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
