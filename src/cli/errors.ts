import { LambdaKitError, type ErrorTable } from '../platform/errors.ts';

/** The command line's own errors; errors of the build and the emulator reach the user with their own codes. */
export const CLI_ERRORS = {
  LK_CLI_USAGE: { kind: 'input', meaning: 'A command, option or argument is unknown, missing or malformed.' },
  LK_CLI_PAYLOAD_NOT_JSON: { kind: 'input', meaning: 'The payload given with --payload or --payload-file is not JSON.' },
  LK_CLI_ENDPOINT_UNREACHABLE: {
    kind: 'failure',
    meaning: 'No Lambda Invoke API answers at the endpoint given to `lambda-kit invoke` (start one with `lambda-kit emulate`).',
  },
  LK_CLI_INVOKE_REFUSED: {
    kind: 'input',
    meaning:
      'The Invoke API refused the request with a 4xx (an unknown function, a payload too large, ...); its errorType and message are printed.',
  },
  LK_CLI_INVOKE_FAILED: {
    kind: 'failure',
    meaning: 'The Invoke API answered with a 5xx (ServiceException, ...); its errorType and message are printed.',
  },
} as const satisfies ErrorTable;
export type CliErrorCode = keyof typeof CLI_ERRORS;

export class CliError extends LambdaKitError {
  constructor(code: CliErrorCode, message: string, options?: ErrorOptions) {
    super(code, CLI_ERRORS[code], message, options);
    this.name = 'CliError';
  }
}

/** What the user typed is not a command line lambda-kit takes. */
export class UsageError extends CliError {
  constructor(message: string) {
    super('LK_CLI_USAGE', message);
  }
}
