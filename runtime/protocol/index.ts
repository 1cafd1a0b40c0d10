/**
 * The wire contract between Lambda and what runs in it: the Runtime API, the
 * Invoke API, the Extensions API and the Telemetry/Logs APIs. Imports
 * nothing: the runtime's clients and the emulator's servers both spell the
 * protocol from here.
 *
 * Each fact is a top-level constant of its own, spelled as a plain literal
 * (paths whole, not joined from a prefix): a function's bundle then holds
 * only the ones its code uses. esbuild drops an unused literal constant, but
 * keeps an object whole when one property is read, and keeps a template or
 * a `+` over other constants even when nothing reads it.
 */
export * from './runtime-api.ts';
export * from './invoke-api.ts';
export * from './extensions-api.ts';
export * from './telemetry-api.ts';
export * from './error-types.ts';
