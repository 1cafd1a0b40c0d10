/**
 * SQS → Lambda events (event source mapping), as AWS sends them.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 */
import * as z from 'zod';

export const SqsMessageAttributeSchema = z.object({
  stringValue: z.string().optional(),
  binaryValue: z.string().optional(),
  stringListValues: z.array(z.string()).optional(),
  binaryListValues: z.array(z.string()).optional(),
  dataType: z.string(),
});

export const SqsRecordAttributesSchema = z.object({
  ApproximateReceiveCount: z.string(),
  SentTimestamp: z.string(),
  SenderId: z.string(),
  ApproximateFirstReceiveTimestamp: z.string(),
  AWSTraceHeader: z.string().optional(),
  // FIFO queues only.
  SequenceNumber: z.string().optional(),
  MessageGroupId: z.string().optional(),
  MessageDeduplicationId: z.string().optional(),
  DeadLetterQueueSourceArn: z.string().optional(),
});

export const SqsRecordSchema = z.object({
  messageId: z.string(),
  receiptHandle: z.string(),
  body: z.string(),
  attributes: SqsRecordAttributesSchema,
  messageAttributes: z.record(z.string(), SqsMessageAttributeSchema),
  md5OfBody: z.string(),
  // AWS sends null when the message has no attributes; @types/aws-lambda has it optional, not nullable.
  md5OfMessageAttributes: z
    .string()
    .nullish()
    .transform((value) => value ?? undefined),
  eventSource: z.literal('aws:sqs'),
  eventSourceARN: z.string(),
  awsRegion: z.string(),
});

export const SqsEventSchema = z.object({ Records: z.array(SqsRecordSchema) });

/** The SQS event with each record's body checked by `body` (often jsonString(...)). */
export function sqsEventWithBody<Body extends z.ZodType>(body: Body) {
  return z.object({ Records: z.array(SqsRecordSchema.extend({ body })) });
}

export type SqsRecord = z.infer<typeof SqsRecordSchema>;
export type SqsEvent = z.infer<typeof SqsEventSchema>;
