/**
 * EventBridge events delivered to Lambda by a rule (and scheduled events).
 * https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
 */
import * as z from 'zod';

export const EventBridgeEventSchema = z.object({
  // AWS documents it as "0" in all events; a few captured events leave it out.
  version: z.string().default('0'),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  // PutEvents accepts only a JSON object as Detail; scheduled events send {}.
  detail: z.record(z.string(), z.unknown()),
  'replay-name': z.string().optional(),
});

/** The EventBridge event with `detail` checked by your schema (and typed as its output). */
export function eventBridgeEventWithDetail<Detail extends z.ZodType>(detail: Detail) {
  return EventBridgeEventSchema.extend({ detail });
}

export type EventBridgeEvent = z.infer<typeof EventBridgeEventSchema>;
