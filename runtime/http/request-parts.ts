/**
 * Pieces every processor needs to build a web Request from an event. Each
 * source encodes paths, queries and headers its own way; these helpers take
 * the differences as arguments rather than guessing.
 */
import { BadHttpEventError } from './errors.ts';
import type { HttpAdapterOptions, HttpEventSource } from './types.ts';

type StringMap = Record<string, string | undefined> | null | undefined;
type MultiStringMap = Record<string, string[] | undefined> | null | undefined;

// RFC 3986 pchar plus "/": what may stand in a URL path unencoded.
const PATH_UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]|%(?![0-9A-Fa-f]{2})/g;

/**
 * Percent-encodes what cannot stand in a path, keeping existing %XX escapes:
 * API Gateway hands over decoded paths ("/my path"), ALB raw ones ("/my%20path"),
 * and both must come out as the same URL.
 *
 * @example
 * ```ts
 * import { encodePath } from 'lambda-kit/http';
 *
 * encodePath('/my path'); // '/my%20path'
 * encodePath('/my%20path'); // '/my%20path'
 * ```
 */
export function encodePath(path: string): string {
  return path.replace(PATH_UNSAFE, (char) => encodeURIComponent(char));
}

/** Strips the stage (when the path starts with it) and the configured base path. */
export function routedPath(path: string, stage: string | undefined, options: HttpAdapterOptions, pathHasStage: boolean): string {
  let result = path.startsWith('/') ? path : `/${path}`;
  if (pathHasStage && options.stripStage !== false && stage && stage !== '$default') {
    result = stripPrefix(result, `/${stage}`);
  }
  if (options.basePath) {
    const base = `/${options.basePath.replace(/^\/+|\/+$/g, '')}`;
    if (base !== '/') result = stripPrefix(result, base);
  }
  return result;
}

function stripPrefix(path: string, prefix: string): string {
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

/** Query from already-decoded values (API Gateway): encoded again, repeated keys kept. */
export function queryFromDecoded(single: StringMap, multi: MultiStringMap): string {
  const params = new URLSearchParams();
  if (multi && Object.keys(multi).length > 0) {
    for (const [key, values] of Object.entries(multi)) for (const value of values ?? []) params.append(key, value);
  } else if (single) {
    for (const [key, value] of Object.entries(single)) if (value !== undefined && value !== null) params.append(key, value);
  }
  return params.toString();
}

/** Query from raw values (ALB passes them on exactly as the client sent them). */
export function queryFromRaw(single: StringMap, multi: MultiStringMap): string {
  const parts: string[] = [];
  if (multi && Object.keys(multi).length > 0) {
    for (const [key, values] of Object.entries(multi)) for (const value of values ?? []) parts.push(`${key}=${value}`);
  } else if (single) {
    for (const [key, value] of Object.entries(single)) if (value !== undefined && value !== null) parts.push(`${key}=${value}`);
  }
  return parts.join('&');
}

/**
 * Headers from an event: the multi-value map when there is one (it holds
 * every value), the single-value map otherwise. Cookie headers are joined
 * with "; " as RFC 6265 wants, not with the ", " Headers would use.
 */
export function headersFrom(source: HttpEventSource, single: StringMap, multi: MultiStringMap, cookies?: string[]): Headers {
  const headers = new Headers();
  const cookieParts: string[] = [];
  const add = (name: string, value: string) => {
    if (name.toLowerCase() === 'cookie') cookieParts.push(value);
    else headers.append(name, value);
  };
  try {
    if (multi && Object.keys(multi).length > 0) {
      for (const [name, values] of Object.entries(multi)) for (const value of values ?? []) add(name, value);
    } else if (single) {
      for (const [name, value] of Object.entries(single)) if (value !== undefined && value !== null) add(name, value);
    }
  } catch (error) {
    throw new BadHttpEventError(source, `a header cannot be used: ${(error as Error).message}`, { cause: error });
  }
  // HTTP API and Function URLs move cookies out of the headers into their own array.
  const allCookies = cookies && cookies.length > 0 ? cookies : cookieParts;
  if (allCookies.length > 0) headers.set('cookie', allCookies.join('; '));
  return headers;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

/** The request body: decoded from base64 when the source says so; none for GET and HEAD. */
export function bodyFrom(
  source: HttpEventSource,
  method: string,
  body: string | null | undefined,
  isBase64Encoded: boolean | undefined,
): Uint8Array | string | null {
  if (body === undefined || body === null || body === '') return null;
  // A web Request cannot carry a body on GET or HEAD; ALB sends one anyway (a health check, a test tool).
  if (method === 'GET' || method === 'HEAD') return null;
  if (!isBase64Encoded) return body;
  if (!BASE64.test(body)) throw new BadHttpEventError(source, 'isBase64Encoded is true but the body is not base64');
  return Buffer.from(body, 'base64');
}

// A hostname or address with an optional port; anything else (a path, spaces) is not a Host.
const HOST = /^(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The absolute URL a Request needs, from what the event says of host, scheme, path and query. */
export function requestUrl(headers: Headers, fallbackHost: string | undefined, path: string, query: string): string {
  const forwardedProto = headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
  const scheme = forwardedProto === 'http' ? 'http' : 'https';
  const candidates = [headers.get('host'), headers.get('x-forwarded-host')?.split(',')[0]?.trim(), fallbackHost];
  const host = candidates.find((candidate) => candidate && HOST.test(candidate)) ?? 'localhost';
  return `${scheme}://${host}${encodePath(path)}${query ? `?${query}` : ''}`;
}

type RequestBody = NonNullable<ConstructorParameters<typeof Request>[1]>['body'];

/** Builds the Request, turning what the web platform rejects into a typed bad-event error. */
export function newRequest(
  source: HttpEventSource,
  url: string,
  init: { method: string; headers: Headers; body: Uint8Array | string | null },
): Request {
  try {
    return new Request(url, { method: init.method, headers: init.headers, body: init.body as RequestBody });
  } catch (error) {
    throw new BadHttpEventError(source, `no Request can be built from it: ${(error as Error).message}`, { cause: error });
  }
}

/** The first address of an X-Forwarded-For list: the client, as ALB saw it. */
export function firstForwardedFor(headers: Headers): string | undefined {
  return headers.get('x-forwarded-for')?.split(',')[0]?.trim() || undefined;
}
