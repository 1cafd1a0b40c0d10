/** Application Load Balancer targets, in single-value and multi-value header mode. */
import { bodyFrom, firstForwardedFor, headersFrom, newRequest, queryFromRaw, requestUrl, routedPath } from '../request-parts.ts';
import { readBody, splitHeaders, statusLine } from '../response-parts.ts';
import { JSON_HEADERS, type HttpEventProcessor } from '../processor.ts';
import type { AlbEvent } from '../types.ts';

/** The target group sends multiValueHeaders exactly when multi-value mode is on; answers must match. */
const isMultiValue = (event: AlbEvent) => event.multiValueHeaders !== undefined && event.multiValueHeaders !== null;

export const albProcessor: HttpEventProcessor<AlbEvent> = {
  source: 'alb',

  matches: (event) => typeof event.requestContext?.elb === 'object' && event.requestContext.elb !== null,

  toRequest(event, options) {
    const method = event.httpMethod.toUpperCase();
    const headers = headersFrom('alb', event.headers, event.multiValueHeaders);
    const path = routedPath(event.path ?? '/', undefined, options, false);
    // ALB does not decode the query: its values are passed on as the client wrote them.
    const query = queryFromRaw(event.queryStringParameters, event.multiValueQueryStringParameters);
    const url = requestUrl(headers, undefined, path, query);
    return newRequest('alb', url, { method, headers, body: bodyFrom('alb', method, event.body, event.isBase64Encoded) });
  },

  facts(_event, request) {
    return { requestId: undefined, sourceIp: firstForwardedFor(request.headers), authorizer: undefined, claims: undefined };
  },

  async toResult(response, event, request, options) {
    const { single, multi, cookies } = splitHeaders(response.headers);
    const body = await readBody(response, request.method, options);
    const result: Record<string, unknown> = {
      statusCode: response.status,
      statusDescription: statusLine(response),
      body: body.body,
      isBase64Encoded: body.isBase64Encoded,
    };
    if (isMultiValue(event)) {
      result.multiValueHeaders = cookies.length > 0 ? { ...multi, 'set-cookie': cookies } : multi;
    } else {
      // Single-value mode carries one value per header; ALB itself keeps the last of repeats.
      if (cookies.length > 1) {
        console.warn(
          `lambda-kit/http: ${cookies.length} Set-Cookie headers, but the ALB target group is in single-value mode, ` +
            'so only the last is sent: enable multi-value headers on the target group to send them all',
        );
      }
      result.headers = cookies.length > 0 ? { ...single, 'set-cookie': cookies.at(-1)! } : single;
    }
    return result;
  },

  errorResult(status, body, event) {
    const description = statusLine(new Response(null, { status }));
    const headers = isMultiValue(event)
      ? { multiValueHeaders: { 'content-type': [JSON_HEADERS['content-type']] } }
      : { headers: { ...JSON_HEADERS } };
    return { statusCode: status, statusDescription: description, ...headers, body, isBase64Encoded: false };
  },
};
