import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import * as z from 'zod';
import type { Context } from '../../../runtime/loop/context.ts';
import { LambdaRuntimeError, toErrorPayload } from '../../../runtime/errors.ts';
import { EventValidationError, parse, type EventSchema } from '../../../runtime/events/index.ts';
import { EventBridgeEventSchema } from '../../../runtime/events/schemas/eventbridge.ts';
import { jsonString } from '../../../runtime/events/schemas/json-string.ts';
import { SqsEventSchema, sqsEventWithBody } from '../../../runtime/events/schemas/sqs.ts';
import { run } from '../../../runtime/index.ts';

const sqsEvent = (...bodies: string[]) => {
  const template = JSON.parse(readFileSync(new URL('../../fixtures/events/sources/example-sqs-event.json', import.meta.url), 'utf8'));
  return { Records: bodies.map((body, index) => ({ ...template.Records[0], messageId: `m${index + 1}`, body })) };
};

// parse() only passes the context on; any object stands in for the runtime's.
const context = { awsRequestId: 'req-1' } as Context;

async function rejection(promise: Promise<unknown>): Promise<EventValidationError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EventValidationError);
  return error as EventValidationError;
}

const Order = z.object({ orderId: z.string(), quantity: z.number().int().positive() });

describe('parse(schema, handler)', () => {
  it('hands the handler the parsed event (JSON bodies parsed) and the context, and returns its result', async () => {
    const handler = vi.fn(async (event: { Records: Array<{ messageId: string; body: z.infer<typeof Order> }> }, received: Context) => ({
      total: event.Records.reduce((sum, record) => sum + record.body.quantity, 0),
      requestId: received.awsRequestId,
    }));
    const wrapped = parse(sqsEventWithBody(jsonString(Order)), handler);
    const result = await wrapped(sqsEvent('{"orderId":"o-1","quantity":2}', '{"orderId":"o-2","quantity":3}'), context);
    expect(result).toEqual({ total: 5, requestId: 'req-1' });
    expect(handler).toHaveBeenCalledTimes(1);
    const [event, received] = handler.mock.calls[0]!;
    expect(event.Records.map((record) => record.body)).toEqual([
      { orderId: 'o-1', quantity: 2 },
      { orderId: 'o-2', quantity: 3 },
    ]);
    expect(received).toBe(context);
  });

  it('throws EventValidationError (LK_EVENT_INVALID) for a bad event, naming the paths, without calling the handler', async () => {
    const handler = vi.fn();
    const wrapped = parse(sqsEventWithBody(jsonString(Order)), handler);
    const error = await rejection(wrapped(sqsEvent('{"orderId":"o-1","quantity":2}', '{"orderId":7,"quantity":-1}'), context));
    expect(handler).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(LambdaRuntimeError);
    expect(error.code).toBe('LK_EVENT_INVALID');
    expect(error.errorType).toBe('Event.ValidationError');
    expect(error.name).toBe('Event.ValidationError');
    expect(error.issues.map((issue) => issue.path)).toEqual([
      ['Records', 1, 'body', 'orderId'],
      ['Records', 1, 'body', 'quantity'],
    ]);
    expect(error.message).toBe(
      "the event does not match the handler's schema: " +
        'Records[1].body.orderId: Invalid input: expected string, received number; ' +
        'Records[1].body.quantity: Too small: expected number to be >0. ' +
        'Check which source invokes this function, or widen the schema.',
    );
    // What the runtime sends to Lambda for it.
    expect(toErrorPayload(error)).toMatchObject({ errorType: 'Event.ValidationError', errorMessage: error.message });
  });

  it('does not put the event’s values in the message', async () => {
    const wrapped = parse(SqsEventSchema, vi.fn());
    const event = sqsEvent('secret-body');
    (event.Records[0] as Record<string, unknown>).receiptHandle = { token: 'secret-token' };
    const error = await rejection(wrapped(event, context));
    expect(error.message).toMatch(
      /^the event does not match the handler's schema: Records\[0\]\.receiptHandle: Invalid input: expected string, received object\./,
    );
    expect(error.message).not.toMatch(/secret/);
  });

  it('lists five issues and counts the rest; quotes keys that are not identifiers; names the whole event', async () => {
    const many = await rejection(parse(SqsEventSchema, vi.fn())({ Records: [{}] }, context));
    expect(many.issues.length).toBeGreaterThan(5);
    expect(many.message).toContain(`(and ${many.issues.length - 5} more)`);
    expect(many.message.match(/Records\[0\]\./g)).toHaveLength(5);

    const bridge = await rejection(parse(EventBridgeEventSchema, vi.fn())({}, context));
    expect(bridge.message).toContain('["detail-type"]: Invalid input');

    const whole = await rejection(parse(SqsEventSchema, vi.fn())('not an object', context));
    expect(whole.message).toContain('(the event): Invalid input: expected object, received string');
  });

  it('runs async refinements and transforms (safeParseAsync)', async () => {
    const known = new Set(['o-1']);
    const schema = z.object({
      orderId: z.string().refine(async (id) => known.has(id), { message: 'unknown order' }),
      quantity: z.number().transform(async (quantity) => quantity * 10),
    });
    const wrapped = parse(schema, (event) => event);
    await expect(wrapped({ orderId: 'o-1', quantity: 2 }, context)).resolves.toEqual({ orderId: 'o-1', quantity: 20 });
    const error = await rejection(wrapped({ orderId: 'o-9', quantity: 2 }, context));
    expect(error.issues).toMatchObject([{ path: ['orderId'], message: 'unknown order' }]);
  });

  it('takes any schema with a zod-shaped safeParse, not only zod’s', async () => {
    const evenNumber: EventSchema<number> = {
      safeParse: (input) =>
        typeof input === 'number' && input % 2 === 0
          ? { success: true, data: input }
          : { success: false, error: { issues: [{ path: [], message: 'expected an even number' }] } },
    };
    const wrapped = parse(evenNumber, (event) => event / 2);
    expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<number>>();
    await expect(wrapped(4, context)).resolves.toBe(2);
    expect((await rejection(wrapped(3, context))).message).toContain('(the event): expected an even number');
  });

  it('lets a handler error through as it is', async () => {
    const failure = new TypeError('handler failed');
    const wrapped = parse(SqsEventSchema, () => {
      throw failure;
    });
    await expect(wrapped(sqsEvent('x'), context)).rejects.toBe(failure);
  });

  it('makes a handler run() takes', () => {
    expectTypeOf(run).toBeCallableWith(parse(SqsEventSchema, (event) => event.Records.length));
  });
});
