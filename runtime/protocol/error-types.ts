/**
 * The errorType strings Lambda itself reports (as opposed to a function's own
 * errors): what callers see in the Invoke answer and in the Telemetry API.
 */
export const PlatformErrorType = {
  timedOut: 'Sandbox.Timedout',
  exitError: 'Runtime.ExitError',
  extensionCrash: 'Extension.Crash',
  responseTooLarge: 'Function.ResponseSizeTooLarge',
  unhandledRejection: 'Runtime.UnhandledPromiseRejection',
  importModule: 'Runtime.ImportModuleError',
  userCodeSyntax: 'Runtime.UserCodeSyntaxError',
  handlerNotFound: 'Runtime.HandlerNotFound',
  malformedHandlerName: 'Runtime.MalformedHandlerName',
} as const;
