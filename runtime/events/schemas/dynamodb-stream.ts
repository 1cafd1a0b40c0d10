/**
 * DynamoDB Streams → Lambda events, and the change records Kinesis Data
 * Streams for DynamoDB writes.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html
 */
import * as z from 'zod';

/** A DynamoDB attribute value: exactly one of the type keys, as in DynamoDB's JSON. */
export type DynamoDbAttributeValue =
  | { B: string }
  | { BOOL: boolean }
  | { BS: string[] }
  | { L: DynamoDbAttributeValue[] }
  | { M: Record<string, DynamoDbAttributeValue> }
  | { N: string }
  | { NS: string[] }
  | { NULL: boolean }
  | { S: string }
  | { SS: string[] };

// Annotated: a recursive schema's type cannot be inferred.
export const DynamoDbAttributeValueSchema: z.ZodType<DynamoDbAttributeValue> = z.lazy(() =>
  z.union([
    z.object({ S: z.string() }),
    z.object({ N: z.string() }),
    z.object({ B: z.string() }),
    z.object({ BOOL: z.boolean() }),
    z.object({ NULL: z.boolean() }),
    z.object({ SS: z.array(z.string()) }),
    z.object({ NS: z.array(z.string()) }),
    z.object({ BS: z.array(z.string()) }),
    z.object({ L: z.array(DynamoDbAttributeValueSchema) }),
    z.object({ M: z.record(z.string(), DynamoDbAttributeValueSchema) }),
  ]),
);

const ItemSchema = z.record(z.string(), DynamoDbAttributeValueSchema);

export const DynamoDbStreamChangeSchema = z.object({
  ApproximateCreationDateTime: z.number().optional(),
  Keys: ItemSchema,
  // Which images are present depends on StreamViewType and eventName.
  NewImage: ItemSchema.optional(),
  OldImage: ItemSchema.optional(),
  SequenceNumber: z.string(),
  SizeBytes: z.number(),
  StreamViewType: z.enum(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES']),
});

// Present when DynamoDB itself made the change: a TTL deletion.
const UserIdentitySchema = z.object({ type: z.string(), principalId: z.string() });

export const DynamoDbStreamRecordSchema = z.object({
  eventID: z.string(),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  eventVersion: z.string(),
  eventSource: z.literal('aws:dynamodb'),
  awsRegion: z.string(),
  dynamodb: DynamoDbStreamChangeSchema,
  eventSourceARN: z.string(),
  userIdentity: UserIdentitySchema.nullish(),
});

export const DynamoDbStreamEventSchema = z.object({ Records: z.array(DynamoDbStreamRecordSchema) });

/**
 * A change as Kinesis Data Streams for DynamoDB writes it (the JSON inside a
 * Kinesis record's data): no stream sequence number or view type, the table's
 * name, and userIdentity null unless DynamoDB made the change.
 */
export const DynamoDbKinesisChangeRecordSchema = z.object({
  awsRegion: z.string(),
  eventID: z.string(),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  userIdentity: UserIdentitySchema.nullish(),
  recordFormat: z.literal('application/json'),
  tableName: z.string(),
  dynamodb: DynamoDbStreamChangeSchema.omit({ SequenceNumber: true, StreamViewType: true }),
  eventSource: z.literal('aws:dynamodb'),
});

export type DynamoDbStreamRecord = z.infer<typeof DynamoDbStreamRecordSchema>;
export type DynamoDbStreamEvent = z.infer<typeof DynamoDbStreamEventSchema>;
export type DynamoDbKinesisChangeRecord = z.infer<typeof DynamoDbKinesisChangeRecordSchema>;
