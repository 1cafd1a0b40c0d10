/**
 * The wire contract between Lambda and what runs in it: the Runtime API, the
 * Invoke API, the Extensions API and the Telemetry/Logs APIs. Imports
 * nothing: the runtime's clients and the emulator's servers both spell the
 * protocol from here.
 */
export * from './runtime-api.ts';
export * from './invoke-api.ts';
export * from './extensions-api.ts';
export * from './telemetry-api.ts';
export * from './error-types.ts';
