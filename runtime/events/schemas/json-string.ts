/**
 * JSON carried as a string inside an event (an SQS body, an SNS Message, an
 * EventBridge event delivered through SQS): jsonString(schema) parses the
 * string, then checks the value with `schema`. Issues inside the value keep
 * their path (Records[0].body.orderId).
 */
import * as z from 'zod';

export function jsonString<Schema extends z.ZodType>(schema: Schema) {
  return z
    .string()
    .transform((text, context): unknown => {
      try {
        return JSON.parse(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: `Invalid JSON: ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
