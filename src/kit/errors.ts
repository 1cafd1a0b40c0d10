/**
 * Errors of the build kit: a stable `code` (LK_KIT_*) and a message that says
 * what is wrong and what to do about it.
 */
export class KitError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KitError';
    this.code = code;
  }
}
