import { describe, expect, it } from 'vitest';
import { LambdaRuntimeError } from '../../../runtime/errors.ts';
import {
  EVENTS_ERRORS,
  EventValidationError,
  InvalidBatchOptionsError,
  UnsupportedBatchEventError,
} from '../../../runtime/events/index.ts';

describe('EVENTS_ERRORS', () => {
  it('names every errorType Event.*', () => {
    for (const [code, spec] of Object.entries(EVENTS_ERRORS)) expect(spec.errorType, code).toMatch(/^Event\.[A-Z]/);
  });

  it('gives each error class a code of the table, with its errorType and kind', () => {
    const errors = [
      new EventValidationError([{ path: ['Records', 0], message: 'Required' }]),
      new UnsupportedBatchEventError('no Records'),
      new InvalidBatchOptionsError('concurrency 0'),
    ];
    for (const error of errors) {
      const spec = EVENTS_ERRORS[error.code as keyof typeof EVENTS_ERRORS];
      expect(spec, `${error.constructor.name}: ${error.code}`).toBeDefined();
      expect(error).toBeInstanceOf(LambdaRuntimeError);
      expect(error).toMatchObject({ errorType: spec.errorType, kind: spec.kind, name: spec.errorType });
    }
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(Object.keys(EVENTS_ERRORS)));
  });
});
