import { describe, expect, it } from 'vitest';
import { LambdaRuntimeError } from '../../../runtime/errors.ts';
import { BadHttpEventError, HTTP_ERRORS, InvalidHttpResponseError, UnknownHttpEventError } from '../../../runtime/http/index.ts';

describe('HTTP_ERRORS', () => {
  it('names every errorType Http.*', () => {
    for (const [code, spec] of Object.entries(HTTP_ERRORS)) expect(spec.errorType, code).toMatch(/^Http\.[A-Z]/);
  });

  it('gives each error class a code of the table, with its errorType and kind', () => {
    const errors = [new UnknownHttpEventError(), new BadHttpEventError('alb', 'why'), new InvalidHttpResponseError(null)];
    for (const error of errors) {
      const spec = HTTP_ERRORS[error.code as keyof typeof HTTP_ERRORS];
      expect(spec, `${error.constructor.name}: ${error.code}`).toBeDefined();
      expect(error).toBeInstanceOf(LambdaRuntimeError);
      expect(error).toMatchObject({ errorType: spec.errorType, kind: spec.kind, name: spec.errorType });
    }
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(Object.keys(HTTP_ERRORS)));
  });
});
