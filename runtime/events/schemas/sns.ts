/**
 * SNS → Lambda events (a Lambda subscription to a topic), as AWS sends them.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
 */
import * as z from 'zod';

export const SnsMessageAttributeSchema = z.object({
  Type: z.string(),
  Value: z.string(),
});

// Lambda spells these SigningCertUrl/UnsubscribeUrl; SNS's HTTP and SQS deliveries (and some
// captured Lambda events) spell them ...URL. Both are accepted; the output has Lambda's spelling,
// which is also @types/aws-lambda's.
const urlSpellings = {
  SigningCertUrl: z.string().optional(),
  SigningCertURL: z.string().optional(),
  UnsubscribeUrl: z.string().optional(),
  UnsubscribeURL: z.string().optional(),
};

/** The Sns object of a record, with Message checked by `message` (often jsonString(...)). */
export function snsMessageSchema<Message extends z.ZodType>(message: Message) {
  return z
    .object({
      Type: z.string(),
      MessageId: z.string(),
      TopicArn: z.string(),
      // null when the message was published without a subject; @types/aws-lambda has it optional.
      Subject: z
        .string()
        .nullish()
        .transform((value) => value ?? undefined),
      Message: message,
      Timestamp: z.string(),
      SignatureVersion: z.string(),
      Signature: z.string(),
      // Absent from some captured events; no attributes either way.
      MessageAttributes: z
        .record(z.string(), SnsMessageAttributeSchema)
        .nullish()
        .transform((value) => value ?? {}),
      Token: z.string().optional(),
      ...urlSpellings,
    })
    .transform(({ SigningCertUrl, SigningCertURL, UnsubscribeUrl, UnsubscribeURL, ...sns }, context) => {
      const urls = { SigningCertUrl: SigningCertUrl ?? SigningCertURL, UnsubscribeUrl: UnsubscribeUrl ?? UnsubscribeURL };
      for (const [key, value] of Object.entries(urls)) {
        if (value === undefined) {
          context.addIssue({ code: 'custom', path: [key], message: `Invalid input: expected ${key} (or ${key.replace(/Url$/, 'URL')})` });
        }
      }
      if (urls.SigningCertUrl === undefined || urls.UnsubscribeUrl === undefined) return z.NEVER;
      return { ...sns, SigningCertUrl: urls.SigningCertUrl, UnsubscribeUrl: urls.UnsubscribeUrl };
    });
}

export const SnsMessageSchema = snsMessageSchema(z.string());

export const SnsRecordSchema = z.object({
  EventVersion: z.string(),
  EventSubscriptionArn: z.string(),
  EventSource: z.literal('aws:sns'),
  Sns: SnsMessageSchema,
});

export const SnsEventSchema = z.object({ Records: z.array(SnsRecordSchema) });

/** The SNS event with each record's Sns.Message checked by `message`. */
export function snsEventWithMessage<Message extends z.ZodType>(message: Message) {
  return z.object({ Records: z.array(SnsRecordSchema.extend({ Sns: snsMessageSchema(message) })) });
}

export type SnsMessage = z.infer<typeof SnsMessageSchema>;
export type SnsRecord = z.infer<typeof SnsRecordSchema>;
export type SnsEvent = z.infer<typeof SnsEventSchema>;
