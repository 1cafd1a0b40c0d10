/**
 * Lambda's rule for a function's name, as CreateFunction checks it: 1-64
 * letters, digits, hyphens or underscores.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName
 */
export const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const FUNCTION_NAME_RULE = 'a function name is 1-64 letters, digits, - or _';

/**
 * A function named by its name, its ARN or its partial ARN, with an optional
 * qualifier (`name:alias`), as the Invoke API takes it. Captures: name, qualifier.
 */
export const FUNCTION_IDENTIFIER_PATTERN =
  /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9_-]+)(?::([^:]+))?$/;
