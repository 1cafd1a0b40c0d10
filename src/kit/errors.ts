/**
 * Errors of the build kit: a stable `code` for programs, and a message that
 * says what was wrong and what to do.
 */
export class KitError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KitError';
    this.code = code;
  }
}
