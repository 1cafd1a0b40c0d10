import { describe, expect, it } from 'vitest';
import {
  ExtensionsApiError,
  HandlerNotFoundError,
  ImportModuleError,
  LambdaRuntimeError,
  MalformedHandlerNameError,
  MissingEnvironmentError,
  ResponseSizeTooLargeError,
  RUNTIME_ERRORS,
  RuntimeApiConnectionError,
  RuntimeApiProtocolError,
  RuntimeApiStatusError,
  SerializationError,
  UnhandledPromiseRejectionError,
  UserCodeSyntaxError,
  toErrorPayload,
} from '../../runtime/errors.ts';
import { EVENTS_ERRORS } from '../../runtime/events/errors.ts';
import { EXTENSION_ERRORS } from '../../runtime/extension/errors.ts';
import { HTTP_ERRORS } from '../../runtime/http/errors.ts';

describe('toErrorPayload', () => {
  it('keeps a runtime error type and its stable code apart', () => {
    const error = new MissingEnvironmentError('AWS_LAMBDA_FUNCTION_NAME');
    expect(error.code).toBe('LK_RUNTIME_MISSING_ENV');
    expect(toErrorPayload(error).errorType).toBe('Runtime.MissingEnvironmentVariable');
    expect(toErrorPayload(new SerializationError(new TypeError('cyclic'))).errorMessage).toMatch(/cyclic/);
  });

  it('never throws, even for an error whose getters throw', () => {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'name', {
      get: () => {
        throw new Error('no');
      },
    });
    expect(toErrorPayload(hostile).errorType).toBe('handled');
    expect(toErrorPayload(Symbol('s'))).toEqual({ errorType: 'symbol', errorMessage: 'Symbol(s)', trace: [] });
    expect(toErrorPayload(null)).toEqual({ errorType: 'object', errorMessage: 'null', trace: [] });
  });
});

describe('RUNTIME_ERRORS', () => {
  // Names Lambda itself gives: AWS's Node runtime reports an oversized answer so, and what an extension reports is Extension.*.
  const LAMBDA_NAMES = new Set(['Function.ResponseSizeTooLarge', 'Extension.ApiStatusError']);

  it('names every errorType Runtime.*, but for the ones Lambda names itself', () => {
    for (const [code, spec] of Object.entries(RUNTIME_ERRORS)) {
      expect(spec.errorType.startsWith('Runtime.') || LAMBDA_NAMES.has(spec.errorType), `${code}: ${spec.errorType}`).toBe(true);
    }
  });

  it('gives each error class a code of the table, with its errorType and kind', () => {
    const errors: LambdaRuntimeError[] = [
      new LambdaRuntimeError('LK_RUNTIME_API_STATUS', 'any'),
      new MissingEnvironmentError('AWS_LAMBDA_RUNTIME_API'),
      new RuntimeApiConnectionError('down'),
      new RuntimeApiProtocolError('not HTTP'),
      new RuntimeApiStatusError('GET /next', 500, ''),
      new MalformedHandlerNameError('index'),
      new ImportModuleError('missing'),
      new UserCodeSyntaxError('syntax'),
      new HandlerNotFoundError('gone'),
      new SerializationError(new TypeError('cyclic')),
      new ResponseSizeTooLargeError(2, 1),
      new UnhandledPromiseRejectionError(new Error('late')),
      new ExtensionsApiError('PUT /telemetry', 400, ''),
    ];
    for (const error of errors) {
      const spec = RUNTIME_ERRORS[error.code as keyof typeof RUNTIME_ERRORS];
      expect(spec, `${error.constructor.name}: ${error.code}`).toBeDefined();
      expect(error).toMatchObject({ errorType: spec.errorType, kind: spec.kind, name: spec.errorType });
    }
    // Every code of the table is some class's.
    expect(new Set(errors.map((error) => error.code))).toEqual(new Set(Object.keys(RUNTIME_ERRORS)));
  });
});

describe('the runtime-side tables together', () => {
  it('hold each code once', () => {
    const codes = [RUNTIME_ERRORS, HTTP_ERRORS, EVENTS_ERRORS, EXTENSION_ERRORS].flatMap((table) => Object.keys(table));
    expect(codes.length).toBe(new Set(codes).size);
  });
});
