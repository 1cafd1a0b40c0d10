/** Lambda Function URLs: payload 2.0, told apart by their lambda-url domain; they can stream. */
import { splitHeaders } from '../response-parts.ts';
import type { HttpEventProcessor } from '../processor.ts';
import type { ApiGatewayV2Event } from '../types.ts';
import { isFunctionUrlDomain, isPayloadV2, payloadV2Conversions } from './api-gateway-v2.ts';

export const functionUrlProcessor: HttpEventProcessor<ApiGatewayV2Event> = {
  source: 'function-url',
  matches: (event) => isPayloadV2(event) && isFunctionUrlDomain(event.requestContext.domainName),
  ...payloadV2Conversions('function-url'),

  toPrelude(response) {
    const { single, cookies } = splitHeaders(response.headers, ['content-length']);
    return { statusCode: response.status, headers: single, cookies };
  },
};
