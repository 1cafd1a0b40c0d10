/**
 * Application Load Balancer → Lambda target events. With multi-value headers
 * turned on for the target group, ALB sends only multiValueHeaders and
 * multiValueQueryStringParameters; otherwise only headers and
 * queryStringParameters. Query string values arrive URL-encoded.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
 */
import * as z from 'zod';

export const AlbEventSchema = z.object({
  requestContext: z.object({ elb: z.object({ targetGroupArn: z.string() }) }),
  httpMethod: z.string(),
  path: z.string(),
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  multiValueQueryStringParameters: z.record(z.string(), z.array(z.string())).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  multiValueHeaders: z.record(z.string(), z.array(z.string())).optional(),
  // Left out by some captured requests without a body; null then, as @types/aws-lambda has it.
  body: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  isBase64Encoded: z.boolean(),
});

export type AlbEvent = z.infer<typeof AlbEventSchema>;
