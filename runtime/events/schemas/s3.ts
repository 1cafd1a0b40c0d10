/**
 * S3 event notifications delivered to Lambda, and S3 Object Lambda requests.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/olap-event-context.html
 */
import * as z from 'zod';

export const S3EventRecordSchema = z.object({
  eventVersion: z.string(),
  eventSource: z.literal('aws:s3'),
  awsRegion: z.string(),
  eventTime: z.string(),
  eventName: z.string(),
  userIdentity: z.object({ principalId: z.string() }),
  requestParameters: z.object({ sourceIPAddress: z.string() }),
  responseElements: z.object({ 'x-amz-request-id': z.string(), 'x-amz-id-2': z.string() }),
  s3: z.object({
    s3SchemaVersion: z.string(),
    configurationId: z.string(),
    bucket: z.object({
      name: z.string(),
      ownerIdentity: z.object({ principalId: z.string() }),
      arn: z.string(),
    }),
    object: z.object({
      // URL-encoded, spaces as '+': decodeS3Key() gives the key itself.
      key: z.string(),
      // ObjectRemoved events carry neither size nor eTag (@types/aws-lambda has both required).
      size: z.number().optional(),
      eTag: z.string().optional(),
      // Versioned buckets only.
      versionId: z.string().optional(),
      sequencer: z.string(),
    }),
  }),
  // ObjectRestore:Completed only.
  glacierEventData: z
    .object({
      restoreEventData: z.object({
        lifecycleRestorationExpiryTime: z.string(),
        lifecycleRestoreStorageClass: z.string(),
      }),
    })
    .optional(),
});

export const S3EventSchema = z.object({ Records: z.array(S3EventRecordSchema) });

/** An object key as S3 notifications carry it (URL-encoded, '+' for spaces) turned back into the key. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replaceAll('+', ' '));
}

const InputS3UrlSchema = z.object({ inputS3Url: z.string() });

/** The request an S3 Object Lambda access point passes on: one of the four *Context objects is present. */
export const S3ObjectLambdaEventSchema = z.object({
  xAmzRequestId: z.string(),
  getObjectContext: InputS3UrlSchema.extend({ outputRoute: z.string(), outputToken: z.string() }).optional(),
  headObjectContext: InputS3UrlSchema.optional(),
  listObjectsContext: InputS3UrlSchema.optional(),
  listObjectsV2Context: InputS3UrlSchema.optional(),
  configuration: z.object({
    accessPointArn: z.string(),
    supportingAccessPointArn: z.string(),
    payload: z.string(),
  }),
  userRequest: z.object({
    url: z.string(),
    headers: z.record(z.string(), z.string()),
  }),
  userIdentity: z.object({
    type: z.string(),
    principalId: z.string(),
    arn: z.string().optional(),
    accountId: z.string().optional(),
    accessKeyId: z.string().optional(),
    sessionContext: z
      .object({
        attributes: z.object({ mfaAuthenticated: z.string(), creationDate: z.string() }),
        sessionIssuer: z
          .object({
            type: z.string(),
            principalId: z.string(),
            arn: z.string(),
            accountId: z.string(),
            userName: z.string(),
          })
          .optional(),
      })
      .optional(),
  }),
  protocolVersion: z.string(),
});

export type S3EventRecord = z.infer<typeof S3EventRecordSchema>;
export type S3Event = z.infer<typeof S3EventSchema>;
export type S3ObjectLambdaEvent = z.infer<typeof S3ObjectLambdaEventSchema>;
