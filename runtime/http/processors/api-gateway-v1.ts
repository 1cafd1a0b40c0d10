/** API Gateway REST APIs, and HTTP APIs with payload format 1.0. */
import { bodyFrom, headersFrom, newRequest, queryFromDecoded, requestUrl, routedPath } from '../request-parts.ts';
import { proxyResult, splitHeaders } from '../response-parts.ts';
import { JSON_HEADERS, type HttpEventProcessor } from '../processor.ts';
import type { ApiGatewayV1Event } from '../types.ts';

export const apiGatewayV1Processor: HttpEventProcessor<ApiGatewayV1Event> = {
  source: 'api-gateway-v1',

  matches: (event) =>
    typeof event.httpMethod === 'string' &&
    typeof event.requestContext === 'object' &&
    event.requestContext !== null &&
    !event.requestContext.elb &&
    event.version !== '2.0',

  toRequest(event, options) {
    const method = event.httpMethod.toUpperCase();
    const headers = headersFrom('api-gateway-v1', event.headers, event.multiValueHeaders);
    // event.path never holds the stage; a custom domain's base path it does.
    const path = routedPath(event.path ?? '/', event.requestContext.stage, options, false);
    const query = queryFromDecoded(event.queryStringParameters, event.multiValueQueryStringParameters);
    const url = requestUrl(headers, event.requestContext.domainName, path, query);
    return newRequest('api-gateway-v1', url, {
      method,
      headers,
      body: bodyFrom('api-gateway-v1', method, event.body, event.isBase64Encoded),
    });
  },

  facts(event) {
    const authorizer = event.requestContext.authorizer ?? undefined;
    return {
      requestId: event.requestContext.requestId,
      sourceIp: event.requestContext.identity?.sourceIp,
      authorizer,
      claims: (authorizer?.claims as Record<string, unknown> | undefined) ?? undefined,
    };
  },

  // REST APIs take repeated headers only through multiValueHeaders; Set-Cookie is the one that repeats.
  toResult: (response, _event, request, options) =>
    proxyResult(response, request.method, options, (cookies) => ({ multiValueHeaders: { 'set-cookie': cookies } })),

  toPrelude(response) {
    const { single, cookies } = splitHeaders(response.headers, ['content-length']);
    return {
      statusCode: response.status,
      headers: single,
      ...(cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': cookies } } : {}),
    };
  },

  errorResult: (status, body) => ({ statusCode: status, headers: { ...JSON_HEADERS }, body, isBase64Encoded: false }),
};
