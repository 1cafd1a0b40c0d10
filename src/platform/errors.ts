/**
 * The shape every area's error table has on the host side (build, emulator,
 * testing, CLI). Each area lists its `LK_*` codes once, with what each means
 * and its kind; the CLI's exit code comes from the kind, and docs/errors.md
 * is generated from the tables (scripts/generate-error-docs.ts).
 */

/** `input`: what the user gave is wrong (exit 2). `failure`: the work itself failed (exit 1). */
export type ErrorKind = 'input' | 'failure';

export interface ErrorSpec {
  readonly kind: ErrorKind;
  /** One sentence for docs/errors.md: when this code is thrown. */
  readonly meaning: string;
}

export type ErrorTable = Readonly<Record<`LK_${string}`, ErrorSpec>>;

/** The process exit code for each kind. */
export const EXIT_CODE: Readonly<Record<ErrorKind, number>> = { input: 2, failure: 1 };

/** Base of the host side's errors: a stable code from its area's table, and that code's kind. */
export class LambdaKitError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;

  constructor(code: string, spec: ErrorSpec, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.kind = spec.kind;
  }
}

/** Any error carrying an `LK_*` code and a kind, from whichever area (the runtime's included). */
export function isCodedError(error: unknown): error is Error & { code: string; kind: ErrorKind } {
  if (!(error instanceof Error)) return false;
  const { code, kind } = error as Error & { code?: unknown; kind?: unknown };
  return typeof code === 'string' && code.startsWith('LK_') && (kind === 'input' || kind === 'failure');
}
