/**
 * lambda-kit/events: parse() for typed, validated events and processBatch()
 * for partial batch responses. Ships inside functions, so it imports only
 * node:* built-ins and runtime/ files, never zod: the schemas are separate
 * subpaths (lambda-kit/events/sqs, ...) and reach a bundle only when a handler
 * imports them.
 */
export { parse, type EventSchema, type EventOf, type ParsedEventHandler, type SafeParseResult } from './parse.ts';
export {
  processBatch,
  type BatchItemFailure,
  type BatchOptions,
  type BatchRecord,
  type BatchResponse,
  type BatchSource,
} from './batch.ts';
export {
  EventValidationError,
  UnsupportedBatchEventError,
  InvalidBatchOptionsError,
  EVENTS_ERRORS,
  type EventIssue,
  type EventsErrorCode,
} from './errors.ts';
