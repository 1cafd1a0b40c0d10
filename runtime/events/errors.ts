/**
 * Errors of lambda-kit/events. They extend the runtime's LambdaRuntimeError:
 * a handler that lets one escape gets it reported to Lambda with its own
 * errorType, and the runtime goes on to the next invocation.
 */
import { LambdaRuntimeError, tableCode, type RuntimeErrorTable } from '../errors.ts';

/** The codes of lambda-kit/events, each once: its kind, the errorType Lambda is told, and what it means (docs/errors.md). */
export const EVENTS_ERRORS = {
  /** The event does not match the schema the handler was wrapped with (parse()); the handler is not called. */
  LK_EVENT_INVALID: { kind: 'input', errorType: 'Event.ValidationError' },
  /** processBatch() was given an event it cannot report partial failures for: no Records, another or mixed sources, a record without its identifier. */
  LK_EVENT_BATCH_UNSUPPORTED: { kind: 'input', errorType: 'Event.UnsupportedBatch' },
  /** processBatch() options that cannot work, such as a concurrency of 0 or 1.5. */
  LK_EVENT_BATCH_OPTIONS: { kind: 'input', errorType: 'Event.InvalidBatchOptions' },
} as const satisfies RuntimeErrorTable;

export type EventsErrorCode = keyof typeof EVENTS_ERRORS;

/** One reason an event failed its schema: zod's issues have this shape (and more). */
export interface EventIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
}

/** How many issues the message lists; all of them stay on `.issues`. */
const LISTED_ISSUES = 5;

/**
 * The event does not match the schema the handler was wrapped with (parse()).
 *
 * @example
 * ```ts
 * import { EventValidationError, parse } from 'lambda-kit/events';
 * import { SqsEventSchema } from 'lambda-kit/events/sqs';
 *
 * const handler = parse(SqsEventSchema, (event) => event.Records.length);
 * await handler({ Records: 'none' }, context).catch((error) => {
 *   if (error instanceof EventValidationError) console.error(error.issues.map((issue) => issue.path.join('.')));
 * });
 * ```
 */
export class EventValidationError extends LambdaRuntimeError {
  readonly issues: readonly EventIssue[];

  constructor(issues: readonly EventIssue[]) {
    super(tableCode(EVENTS_ERRORS, 'LK_EVENT_INVALID'), describeIssues(issues));
    this.issues = issues;
  }
}

/**
 * processBatch() was given something it cannot report partial failures for.
 *
 * @example
 * ```ts
 * import { processBatch, UnsupportedBatchEventError } from 'lambda-kit/events';
 *
 * // An SNS event: Lambda takes partial batch responses from SQS, Kinesis and DynamoDB streams only.
 * await expect(processBatch(snsEvent, handleRecord)).rejects.toBeInstanceOf(UnsupportedBatchEventError);
 * ```
 */
export class UnsupportedBatchEventError extends LambdaRuntimeError {
  constructor(message: string) {
    super(tableCode(EVENTS_ERRORS, 'LK_EVENT_BATCH_UNSUPPORTED'), message);
  }
}

/**
 * processBatch() options that make no sense (a concurrency of 0, 1.5, ...).
 *
 * @example
 * ```ts
 * import { InvalidBatchOptionsError, processBatch } from 'lambda-kit/events';
 *
 * await expect(processBatch(sqsEvent, handleRecord, { concurrency: 0 })).rejects.toBeInstanceOf(InvalidBatchOptionsError);
 * ```
 */
export class InvalidBatchOptionsError extends LambdaRuntimeError {
  constructor(message: string) {
    super(tableCode(EVENTS_ERRORS, 'LK_EVENT_BATCH_OPTIONS'), message);
  }
}

// Paths read as they would in code: Records[0].body, requestContext.http.method, ["detail-type"].
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the event)';
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

// Paths and zod's messages only: the event's values may be personal data and stay out of logs.
function describeIssues(issues: readonly EventIssue[]): string {
  const listed = issues
    .slice(0, LISTED_ISSUES)
    .map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
    .join('; ');
  const more = issues.length > LISTED_ISSUES ? ` (and ${issues.length - LISTED_ISSUES} more)` : '';
  return (
    `the event does not match the handler's schema: ${listed || 'no issue reported'}${more}. ` +
    'Check which source invokes this function, or widen the schema.'
  );
}
