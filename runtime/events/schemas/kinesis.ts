/**
 * Kinesis Data Streams → Lambda events. Each record's data stays as AWS sends
 * it, base64; decodeKinesisData() gives the bytes back as text.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
 */
import { Buffer } from 'node:buffer';
import * as z from 'zod';

export const KinesisPayloadSchema = z.object({
  kinesisSchemaVersion: z.string(),
  partitionKey: z.string(),
  sequenceNumber: z.string(),
  data: z.string(),
  approximateArrivalTimestamp: z.number(),
  // "KMS" on streams with server-side encryption; Lambda has already decrypted data.
  encryptionType: z.string().optional(),
});

export const KinesisRecordSchema = z.object({
  kinesis: KinesisPayloadSchema,
  eventSource: z.literal('aws:kinesis'),
  eventVersion: z.string(),
  eventID: z.string(),
  eventName: z.string(),
  invokeIdentityArn: z.string(),
  awsRegion: z.string(),
  eventSourceARN: z.string(),
});

export const KinesisEventSchema = z.object({ Records: z.array(KinesisRecordSchema) });

/** A record's data (base64) decoded as UTF-8 text; JSON.parse it when producers write JSON. */
export function decodeKinesisData(data: string): string {
  return Buffer.from(data, 'base64').toString('utf8');
}

export type KinesisRecord = z.infer<typeof KinesisRecordSchema>;
export type KinesisEvent = z.infer<typeof KinesisEventSchema>;
