/**
 * API Gateway WebSocket APIs. Each event becomes a request to "/<routeKey>":
 * $connect a GET (it is the upgrade request: headers and query), messages a
 * POST with the frame as body, $disconnect a DELETE.
 */
import { bodyFrom, headersFrom, newRequest, queryFromDecoded, requestUrl } from '../request-parts.ts';
import { readBody, splitHeaders } from '../response-parts.ts';
import { JSON_HEADERS, type HttpEventProcessor } from '../processor.ts';
import type { ApiGatewayWebSocketEvent } from '../types.ts';

const METHODS = { CONNECT: 'GET', MESSAGE: 'POST', DISCONNECT: 'DELETE' } as const;

export const apiGatewayWebSocketProcessor: HttpEventProcessor<ApiGatewayWebSocketEvent> = {
  source: 'api-gateway-websocket',

  matches: (event) => typeof event.requestContext?.connectionId === 'string' && typeof event.requestContext.eventType === 'string',

  toRequest(event) {
    const { eventType, routeKey, domainName } = event.requestContext;
    const method = METHODS[eventType] ?? 'POST';
    const headers = headersFrom('api-gateway-websocket', event.headers, event.multiValueHeaders);
    const query = queryFromDecoded(event.queryStringParameters, event.multiValueQueryStringParameters);
    const url = requestUrl(headers, domainName, `/${routeKey}`, query);
    const body = eventType === 'MESSAGE' ? bodyFrom('api-gateway-websocket', method, event.body, event.isBase64Encoded) : null;
    return newRequest('api-gateway-websocket', url, { method, headers, body });
  },

  facts(event) {
    const context = event.requestContext;
    const authorizer = context.authorizer ?? undefined;
    return {
      requestId: context.requestId,
      sourceIp: context.identity?.sourceIp,
      authorizer,
      claims: (authorizer?.claims as Record<string, unknown> | undefined) ?? undefined,
      websocket: {
        connectionId: context.connectionId,
        routeKey: context.routeKey,
        eventType: context.eventType,
        connectedAt: context.connectedAt,
      },
    };
  },

  async toResult(response, _event, request, options) {
    const { single } = splitHeaders(response.headers);
    const body = await readBody(response, request.method, options);
    // $connect: the status accepts or refuses the connection; a two-way route sends the body to the client.
    return { statusCode: response.status, headers: single, body: body.body, isBase64Encoded: body.isBase64Encoded };
  },

  errorResult: (status, body) => ({ statusCode: status, headers: { ...JSON_HEADERS }, body, isBase64Encoded: false }),
};
