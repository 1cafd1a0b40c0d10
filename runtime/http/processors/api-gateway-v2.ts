/** API Gateway HTTP APIs, payload format 2.0. */
import { bodyFrom, headersFrom, newRequest, requestUrl, routedPath } from '../request-parts.ts';
import { proxyResult } from '../response-parts.ts';
import { JSON_HEADERS, type HttpEventProcessor } from '../processor.ts';
import type { ApiGatewayV2Event, HttpEventSource } from '../types.ts';

/** Payload 2.0 is shared with Function URLs; only detection and streaming differ. */
export function payloadV2Conversions(source: HttpEventSource): Omit<HttpEventProcessor<ApiGatewayV2Event>, 'source' | 'matches'> {
  return {
    toRequest(event, options) {
      const method = event.requestContext.http.method.toUpperCase();
      const headers = headersFrom(source, event.headers, undefined, event.cookies);
      // rawPath holds a named stage ("/prod/pets") and an API mapping's path.
      const path = routedPath(event.rawPath ?? event.requestContext.http.path ?? '/', event.requestContext.stage, options, true);
      const url = requestUrl(headers, event.requestContext.domainName, path, event.rawQueryString ?? '');
      return newRequest(source, url, { method, headers, body: bodyFrom(source, method, event.body, event.isBase64Encoded) });
    },

    facts(event) {
      const authorizer = event.requestContext.authorizer ?? undefined;
      return {
        requestId: event.requestContext.requestId,
        sourceIp: event.requestContext.http.sourceIp,
        authorizer,
        claims: authorizer?.jwt?.claims,
      };
    },

    // Payload 2.0 has a field of its own for cookies; joined in a header they would break.
    toResult: (response, _event, request, options) => proxyResult(response, request.method, options, (cookies) => ({ cookies })),

    errorResult: (status, body) => ({ statusCode: status, headers: { ...JSON_HEADERS }, body, isBase64Encoded: false }),
  };
}

export const isPayloadV2 = (event: Record<string, any>): boolean =>
  event.version === '2.0' && typeof event.requestContext?.http?.method === 'string';

export const isFunctionUrlDomain = (domainName: unknown): boolean => typeof domainName === 'string' && domainName.includes('.lambda-url.');

export const apiGatewayV2Processor: HttpEventProcessor<ApiGatewayV2Event> = {
  source: 'api-gateway-v2',
  // HTTP APIs cannot stream responses: no prelude, the buffered result is sent.
  matches: (event) => isPayloadV2(event) && !isFunctionUrlDomain(event.requestContext.domainName),
  ...payloadV2Conversions('api-gateway-v2'),
};
