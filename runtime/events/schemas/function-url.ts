/**
 * Lambda function URL events: the HTTP API 2.0 payload, with IAM the only
 * authorizer (AWS_IAM auth type).
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 */
import * as z from 'zod';
import { ApiGatewayV2EventSchema, ApiGatewayV2IamSchema, ApiGatewayV2RequestContextSchema } from './api-gateway-v2.ts';

export const FunctionUrlRequestContextSchema = ApiGatewayV2RequestContextSchema.extend({
  authorizer: z.object({ iam: ApiGatewayV2IamSchema }).optional(),
});

export const FunctionUrlEventSchema = ApiGatewayV2EventSchema.extend({
  requestContext: FunctionUrlRequestContextSchema,
});

export type FunctionUrlEvent = z.infer<typeof FunctionUrlEventSchema>;
