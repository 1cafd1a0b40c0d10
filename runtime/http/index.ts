/**
 * lambda-kit/http: HTTP events as web Requests, web Responses as results.
 * Ships inside functions: imports only node:* and the runtime's own files.
 */
export { handle, streamHandle, detectHttpEventSource, getHttpContext, type HttpHandler } from './handle.ts';
export { encodePath } from './request-parts.ts';
export { isTextContentType } from './response-parts.ts';
export { UnknownHttpEventError, BadHttpEventError, InvalidHttpResponseError, HTTP_ERRORS, type HttpErrorCode } from './errors.ts';
export type {
  HttpEventSource,
  HttpContext,
  HttpAdapterOptions,
  FetchHandler,
  FetchApp,
  HttpEvent,
  ApiGatewayV1Event,
  ApiGatewayV2Event,
  AlbEvent,
  ApiGatewayWebSocketEvent,
  WebSocketInfo,
} from './types.ts';
