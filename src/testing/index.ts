/** lambda-kit/testing: test helpers for Lambda functions (testcontainers is a peer dependency). */
export { LambdaContainer, StartedLambdaContainer, type LambdaInvokeResult } from './lambda-container.ts';
