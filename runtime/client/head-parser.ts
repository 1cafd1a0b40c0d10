/**
 * The head of a response from the Runtime or Extensions API: status line,
 * the fields that frame its body, and the fields the request picked.
 */
import { RuntimeApiProtocolError } from '../errors.ts';
import { CRLF, pickFields } from './header-fields.ts';

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
