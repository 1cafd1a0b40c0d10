import { describe, expect, it } from 'vitest';
import {
  EXTENSION_EXIT_ERROR_PATH,
  EXTENSION_INIT_ERROR_PATH,
  EXTENSION_NEXT_EVENT_PATH,
  EXTENSION_REGISTER_PATH,
  EXTENSIONS_API_PREFIX,
  INIT_ERROR_PATH,
  LOGS_API_PATH,
  LOGS_API_VERSION,
  NEXT_INVOCATION_PATH,
  RUNTIME_API_PREFIX,
  TELEMETRY_API_PATH,
  TELEMETRY_API_VERSION,
  invocationErrorPath,
  invocationResponsePath,
} from '../../../runtime/protocol/index.ts';

// The protocol spells every path whole (so that a bundle keeps only the ones it uses): each must sit under its API's prefix.
describe('the protocol paths', () => {
  it('are the Runtime API (2018-06-01) paths, under its prefix', () => {
    expect(RUNTIME_API_PREFIX).toBe('/2018-06-01/runtime');
    expect(NEXT_INVOCATION_PATH).toBe(`${RUNTIME_API_PREFIX}/invocation/next`);
    expect(INIT_ERROR_PATH).toBe(`${RUNTIME_API_PREFIX}/init/error`);
    expect(invocationResponsePath('abc')).toBe(`${RUNTIME_API_PREFIX}/invocation/abc/response`);
    expect(invocationErrorPath('abc')).toBe(`${RUNTIME_API_PREFIX}/invocation/abc/error`);
  });

  it('are the Extensions API (2020-01-01) paths, under its prefix', () => {
    expect(EXTENSIONS_API_PREFIX).toBe('/2020-01-01/extension');
    expect(EXTENSION_REGISTER_PATH).toBe(`${EXTENSIONS_API_PREFIX}/register`);
    expect(EXTENSION_NEXT_EVENT_PATH).toBe(`${EXTENSIONS_API_PREFIX}/event/next`);
    expect(EXTENSION_INIT_ERROR_PATH).toBe(`${EXTENSIONS_API_PREFIX}/init/error`);
    expect(EXTENSION_EXIT_ERROR_PATH).toBe(`${EXTENSIONS_API_PREFIX}/exit/error`);
  });

  it('name the Telemetry and Logs API versions they subscribe to', () => {
    expect(TELEMETRY_API_PATH).toBe(`/${TELEMETRY_API_VERSION}/telemetry`);
    expect(LOGS_API_PATH).toBe(`/${LOGS_API_VERSION}/logs`);
  });
});
