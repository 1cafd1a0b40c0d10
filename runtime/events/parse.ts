/**
 * parse(schema, handler): a Lambda handler that checks the event against a
 * schema before the handler sees it. Typed structurally, so this file (which
 * ships in every function that uses it) needs no zod: any zod schema fits.
 */
import type { Context } from '../loop/context.ts';
import { EventValidationError, type EventIssue } from './errors.ts';

/** The result of zod's safeParse / safeParseAsync. */
export type SafeParseResult<Output> =
  | { readonly success: true; readonly data: Output }
  | { readonly success: false; readonly error: { readonly issues: readonly EventIssue[] } };

/** What parse() needs of a schema: zod's safeParse, and safeParseAsync when it has one. */
export interface EventSchema<Output = unknown> {
  safeParse(input: unknown): SafeParseResult<Output>;
  safeParseAsync?(input: unknown): Promise<SafeParseResult<Output>>;
}

/** The event a schema hands to the handler: its output, after transformations (zod's z.output). */
export type EventOf<Schema extends EventSchema> = Extract<ReturnType<Schema['safeParse']>, { success: true }>['data'];

/**
 * A handler for a parsed event. The context is lambda-kit/runtime's unless the
 * handler declares another (@types/aws-lambda's, say): parse() passes it on untouched.
 */
export type ParsedEventHandler<Event, Result, HandlerContext = Context> = (event: Event, context: HandlerContext) => Result;

/**
 * Wraps `handler` so it only ever sees events that pass `schema`. A bad event
 * throws EventValidationError (code LK_EVENT_INVALID) without calling the
 * handler: the runtime reports it as the invocation's error and carries on.
 *
 * @example
 * ```ts
 * import * as z from 'zod';
 * import { parse } from 'lambda-kit/events';
 * import { jsonString } from 'lambda-kit/events/json-string';
 * import { sqsEventWithBody } from 'lambda-kit/events/sqs';
 *
 * const Order = z.object({ orderId: z.string(), quantity: z.number() });
 *
 * export const handler = parse(sqsEventWithBody(jsonString(Order)), async (event) => {
 *   for (const record of event.Records) console.log(record.body.orderId, record.body.quantity);
 * });
 * ```
 */
export function parse<Schema extends EventSchema, Result, HandlerContext = Context>(
  schema: Schema,
  handler: ParsedEventHandler<EventOf<Schema>, Result, HandlerContext>,
): (event: unknown, context: HandlerContext) => Promise<Awaited<Result>> {
  return async (event, context): Promise<Awaited<Result>> => {
    // zod's sync safeParse throws on async refinements and transforms; safeParseAsync takes both kinds.
    const result = schema.safeParseAsync ? await schema.safeParseAsync(event) : schema.safeParse(event);
    if (!result.success) throw new EventValidationError(result.error.issues);
    return await handler(result.data as EventOf<Schema>, context);
  };
}
