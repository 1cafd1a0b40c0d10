/**
 * The Telemetry API (2022-07-01) and the older Logs API (2020-08-15): the
 * subscription paths an extension PUTs to.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
 */

export const TELEMETRY_API_VERSION = '2022-07-01';
export const LOGS_API_VERSION = '2020-08-15';

export const TELEMETRY_API_PATH = `/${TELEMETRY_API_VERSION}/telemetry`;
export const LOGS_API_PATH = `/${LOGS_API_VERSION}/logs`;

/** The streams an extension can subscribe to. */
export const TELEMETRY_TYPES = ['platform', 'function', 'extension'] as const;
export type TelemetryType = (typeof TELEMETRY_TYPES)[number];
