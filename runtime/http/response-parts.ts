/**
 * Pieces every processor needs to turn a web Response into what its source
 * expects back: body as text or base64, headers split from Set-Cookie.
 */
import type { HttpAdapterOptions } from './types.ts';

const TEXT_TYPES =
  /^(?:text\/|application\/(?:[\w.+-]+\+)?(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql)\b|image\/svg\+xml)/i;

/**
 * Whether a body of this content type goes back as text (not base64):
 * text, JSON, XML, JavaScript, SVG, form data and GraphQL.
 *
 * @example
 * ```ts
 * import { handle, isTextContentType } from 'lambda-kit/http';
 *
 * // Also send CSV as text, not base64.
 * export const handler = handle(app, { isBinary: (type) => !isTextContentType(type) && !type.startsWith('application/csv') });
 * ```
 */
export function isTextContentType(contentType: string): boolean {
  return TEXT_TYPES.test(contentType.trim());
}

/** Whether a response body goes back base64-encoded. */
function isBinaryResponse(headers: Headers, options: HttpAdapterOptions): boolean {
  const encoding = headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return true;
  const contentType = headers.get('content-type') ?? '';
  if (options.isBinary) return options.isBinary(contentType);
  return contentType !== '' && !isTextContentType(contentType);
}

interface BufferedBody {
  body: string;
  isBase64Encoded: boolean;
}

/** Reads the whole body; HEAD responses and 204/304 carry none. */
export async function readBody(response: Response, method: string, options: HttpAdapterOptions): Promise<BufferedBody> {
  if (method === 'HEAD' || response.body === null) {
    await response.body?.cancel();
    return { body: '', isBase64Encoded: false };
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (isBinaryResponse(response.headers, options)) return { body: bytes.toString('base64'), isBase64Encoded: true };
  return { body: bytes.toString('utf8'), isBase64Encoded: false };
}

interface SplitHeaders {
  /** Every header but Set-Cookie, repeated values joined with ", " as HTTP allows. */
  single: Record<string, string>;
  /** The same, shaped for multi-value sources. */
  multi: Record<string, string[]>;
  /** Each Set-Cookie on its own: they cannot be joined. */
  cookies: string[];
}

export function splitHeaders(headers: Headers, omit: readonly string[] = []): SplitHeaders {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  headers.forEach((value, name) => {
    if (name === 'set-cookie' || omit.includes(name)) return;
    single[name] = value;
    // Headers has already joined repeats with ", "; one joined value means the same in HTTP.
    multi[name] = [value];
  });
  return { single, multi, cookies: headers.getSetCookie() };
}

// Not node:http's STATUS_CODES: loading node:http would cost every cold start for one table.
const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * What REST, HTTP API and Function URL answers share: status, headers, body;
 * `placeCookies` puts the Set-Cookie values where the source wants them.
 */
export async function proxyResult(
  response: Response,
  method: string,
  options: HttpAdapterOptions,
  placeCookies: (cookies: string[]) => Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { single, cookies } = splitHeaders(response.headers);
  const body = await readBody(response, method, options);
  return {
    statusCode: response.status,
    headers: single,
    ...(cookies.length > 0 ? placeCookies(cookies) : {}),
    body: body.body,
    isBase64Encoded: body.isBase64Encoded,
  };
}

/** "200 OK": ALB wants the reason phrase too. */
export function statusLine(response: Response): string {
  return `${response.status} ${response.statusText || REASONS[response.status] || ''}`.trim();
}

/** A small JSON body saying why a request was refused. */
export function errorBody(status: number, code: string, message: string): string {
  return JSON.stringify({ message, code, status });
}
