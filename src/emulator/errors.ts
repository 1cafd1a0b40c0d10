/**
 * Errors of the emulator area: a stable `code` for programs, a message that
 * says what was wrong and what to do for people.
 */
export class EmulatorError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmulatorError';
    this.code = code;
  }
}

/** A function definition the emulator cannot run as given. */
export class FunctionConfigError extends EmulatorError {
  constructor(message: string) {
    super('LK_EMULATOR_FUNCTION_CONFIG', message);
  }
}

/** The function's process or container could not be started. */
export class LaunchError extends EmulatorError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_EMULATOR_LAUNCH', message, options);
  }
}
