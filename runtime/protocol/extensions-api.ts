/**
 * The Extensions API (2020-01-01) as Lambda serves it to extensions.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 */

/** Every Extensions API path starts here. */
export const EXTENSIONS_API_PREFIX = '/2020-01-01/extension';

/** POST: registers an extension, during init. */
export const EXTENSION_REGISTER_PATH = '/2020-01-01/extension/register';
/** GET: the next event (a long poll). */
export const EXTENSION_NEXT_EVENT_PATH = '/2020-01-01/extension/event/next';
/** POST: an extension's failure during init. */
export const EXTENSION_INIT_ERROR_PATH = '/2020-01-01/extension/init/error';
/** POST: an extension's failure after init. */
export const EXTENSION_EXIT_ERROR_PATH = '/2020-01-01/extension/exit/error';

export const EXTENSION_NAME_HEADER = 'Lambda-Extension-Name';
/** What /register answers with, and every later request of that extension carries. */
export const EXTENSION_IDENTIFIER_HEADER = 'Lambda-Extension-Identifier';
export const EXTENSION_ACCEPT_FEATURE_HEADER = 'Lambda-Extension-Accept-Feature';
export const EXTENSION_FUNCTION_ERROR_TYPE_HEADER = 'Lambda-Extension-Function-Error-Type';
export const EXTENSION_EVENT_IDENTIFIER_HEADER = 'Lambda-Extension-Event-Identifier';

/** The events an extension registers for; internal extensions cannot take SHUTDOWN. */
export const EXTENSION_EVENTS = ['INVOKE', 'SHUTDOWN'] as const;
export type ExtensionEventType = (typeof EXTENSION_EVENTS)[number];

/** How many extensions one function may have. */
export const MAX_EXTENSIONS = 10;
