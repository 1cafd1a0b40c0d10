import { LambdaKitError, type ErrorTable } from '../platform/errors.ts';

/**
 * Errors of the emulator area: a stable `code` for programs, a message that
 * says what was wrong and what to do for people.
 */
export const EMULATOR_ERRORS = {
  LK_EMULATOR_FUNCTION_CONFIG: {
    kind: 'input',
    meaning:
      'A function definition the emulator cannot run as given: a wrong or missing key, a name defined twice, or a function it does not have.',
  },
  LK_EMULATOR_LAUNCH: {
    kind: 'input',
    meaning:
      "The function's runtime could not be started from what its definition points at: a missing handler file, a zip that does not unpack or has no executable bootstrap, a command that does not start, an image Docker cannot run.",
  },
  LK_EMULATOR_CLOSED: {
    kind: 'failure',
    meaning: 'An invocation came, or was still waiting for an execution environment, after the emulator closed.',
  },
  LK_EMULATOR_EVENT_STREAM: {
    kind: 'failure',
    meaning:
      'An InvokeWithResponseStream answer is not valid event-stream framing (a CRC does not match, or a header has a type the decoder does not read).',
  },
} as const satisfies ErrorTable;

export type EmulatorErrorCode = keyof typeof EMULATOR_ERRORS;

export class EmulatorError extends LambdaKitError {
  constructor(code: EmulatorErrorCode, message: string, options?: ErrorOptions) {
    super(code, EMULATOR_ERRORS[code], message, options);
    this.name = 'EmulatorError';
  }
}

/** A function definition the emulator cannot run as given. */
export class FunctionConfigError extends EmulatorError {
  constructor(message: string) {
    super('LK_EMULATOR_FUNCTION_CONFIG', message);
  }
}

/** The function's runtime could not be started. */
export class LaunchError extends EmulatorError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_EMULATOR_LAUNCH', message, options);
  }
}
