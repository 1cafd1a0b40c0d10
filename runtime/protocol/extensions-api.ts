/**
 * The Extensions API (2020-01-01) as Lambda serves it to extensions.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 */

export const EXTENSIONS_API_VERSION = '2020-01-01';
/** Every Extensions API path starts here. */
export const EXTENSIONS_API_PREFIX = `/${EXTENSIONS_API_VERSION}/extension`;

/** Paths below EXTENSIONS_API_PREFIX. */
export const ExtensionsApiPath = {
  register: '/register',
  next: '/event/next',
  initError: '/init/error',
  exitError: '/exit/error',
} as const;

export const ExtensionHeader = {
  name: 'Lambda-Extension-Name',
  identifier: 'Lambda-Extension-Identifier',
  acceptFeature: 'Lambda-Extension-Accept-Feature',
  functionErrorType: 'Lambda-Extension-Function-Error-Type',
  eventIdentifier: 'Lambda-Extension-Event-Identifier',
} as const;

/** The events an extension registers for; internal extensions cannot take SHUTDOWN. */
export const EXTENSION_EVENTS = ['INVOKE', 'SHUTDOWN'] as const;
export type ExtensionEventType = (typeof EXTENSION_EVENTS)[number];

/** How many extensions one function may have. */
export const MAX_EXTENSIONS = 10;
