/**
 * The Telemetry API (2022-07-01) and the older Logs API (2020-08-15): the
 * subscription paths an extension PUTs to.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html
 */

export const TELEMETRY_API_VERSION = '2022-07-01';
export const LOGS_API_VERSION = '2020-08-15';

/** PUT: a subscription to the Telemetry API (its path names TELEMETRY_API_VERSION). */
export const TELEMETRY_API_PATH = '/2022-07-01/telemetry';
/** PUT: a subscription to the Logs API (its path names LOGS_API_VERSION). */
export const LOGS_API_PATH = '/2020-08-15/logs';

/** The streams an extension can subscribe to. */
export const TELEMETRY_TYPES = ['platform', 'function', 'extension'] as const;
export type TelemetryType = (typeof TELEMETRY_TYPES)[number];
