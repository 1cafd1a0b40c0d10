import { describe, expect, it } from 'vitest';
import { MissingEnvironmentError, SerializationError, toErrorPayload } from '../../runtime/errors.ts';

describe('toErrorPayload', () => {
  it('keeps a runtime error type and its stable code apart', () => {
    const error = new MissingEnvironmentError('AWS_LAMBDA_FUNCTION_NAME');
    expect(error.code).toBe('LK_RUNTIME_MISSING_ENV');
    expect(toErrorPayload(error).errorType).toBe('Runtime.MissingEnvironmentVariable');
    expect(toErrorPayload(new SerializationError(new TypeError('cyclic'))).errorMessage).toMatch(/cyclic/);
  });

  it('never throws, even for an error whose getters throw', () => {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'name', { get: () => { throw new Error('no'); } });
    expect(toErrorPayload(hostile).errorType).toBe('handled');
    expect(toErrorPayload(Symbol('s'))).toEqual({ errorType: 'symbol', errorMessage: 'Symbol(s)', stackTrace: [] });
    expect(toErrorPayload(null)).toEqual({ errorType: 'object', errorMessage: 'null', stackTrace: [] });
  });
});
