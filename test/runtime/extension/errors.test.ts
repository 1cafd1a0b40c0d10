import { describe, expect, it } from 'vitest';
import { LambdaRuntimeError } from '../../../runtime/errors.ts';
import { EXTENSION_ERRORS, ExtensionConfigError, TelemetryBatchError } from '../../../runtime/extension/index.ts';

describe('EXTENSION_ERRORS', () => {
  it('names every errorType Extension.*', () => {
    for (const [code, spec] of Object.entries(EXTENSION_ERRORS)) expect(spec.errorType, code).toMatch(/^Extension\.[A-Z]/);
  });

  it('gives each error class a code of the table, with its errorType and kind', () => {
    const errors = [new ExtensionConfigError('no name'), new TelemetryBatchError('not an array')];
    for (const error of errors) {
      const spec = EXTENSION_ERRORS[error.code as keyof typeof EXTENSION_ERRORS];
      expect(spec, `${error.constructor.name}: ${error.code}`).toBeDefined();
      expect(error).toBeInstanceOf(LambdaRuntimeError);
      expect(error).toMatchObject({ errorType: spec.errorType, kind: spec.kind, name: spec.errorType });
    }
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(Object.keys(EXTENSION_ERRORS)));
  });
});
