import { randomUUID } from 'node:crypto';
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers';
import { RuntimeApiServer, type InvocationOutcome } from '../emulator/apis/runtime-api-server.ts';
import { functionArn } from '../platform/function-arn.ts';
import { lambdaEnvironment } from '../platform/function-environment.ts';
import { EXIT_ERROR_TYPE, MAX_RESPONSE_BYTES, RESPONSE_TOO_LARGE_ERROR_TYPE } from '../../runtime/protocol/index.ts';
import { errorDocument, invocationErrorMessage, responseTooLargeMessage, timedOutDocument } from '../platform/platform-errors.ts';

const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';

/**
 * A testcontainers module for Lambda function images: the container is one
 * execution environment, its runtime talks to a Runtime API on 127.0.0.1
 * (host network), and the test invokes it as a caller would.
 *
 *   const lambda = await new LambdaContainer('my-function:arm64').withPlatform('linux/arm64').start();
 *   const result = await lambda.invoke({ firstName: 'Ada' });
 *   await lambda.stop();
 */
export class LambdaContainer extends GenericContainer {
  #functionName = 'function';
  #memoryMb = 128;
  #timeoutSeconds = 3;

  constructor(image: string) {
    super(image);
    this.withNetworkMode('host');
  }

  /** AWS_LAMBDA_FUNCTION_NAME and the ARN's name (default "function"). */
  withFunctionName(name: string): this {
    this.#functionName = name;
    return this;
  }

  withMemorySize(memoryMb: number): this {
    this.#memoryMb = memoryMb;
    return this;
  }

  /** The function timeout: an invoke not answered in time is a Sandbox.Timedout result. */
  withFunctionTimeout(seconds: number): this {
    this.#timeoutSeconds = seconds;
    return this;
  }

  override async start(): Promise<StartedLambdaContainer> {
    const server = await RuntimeApiServer.start({
      host: '127.0.0.1',
      functionArn: functionArn({ region: REGION, accountId: ACCOUNT_ID, name: this.#functionName }),
      defaultTimeoutMs: this.#timeoutSeconds * 1000,
    });
    this.withEnvironment(
      lambdaEnvironment({
        name: this.#functionName,
        version: '$LATEST',
        memoryMb: this.#memoryMb,
        region: REGION,
        runtimeApi: server.address,
      }),
    );
    // The function's memory size is the container's hard limit, as in Lambda (the quota is in GB).
    this.withResourcesQuota({ memory: this.#memoryMb / 1024 });
    try {
      const container = await super.start();
      return new StartedLambdaContainer(container, server, this.#timeoutSeconds);
    } catch (error) {
      await server.close();
      throw error;
    }
  }
}

export interface LambdaInvokeResult {
  /** Set ("Unhandled") when the function failed, as X-Amz-Function-Error. */
  functionError: 'Unhandled' | undefined;
  payload: Buffer;
  /** The raw answer of the runtime, streaming trailers and headers included. */
  outcome: InvocationOutcome | { kind: 'timeout' };
  json<T = unknown>(): T;
}

export class StartedLambdaContainer extends AbstractStartedContainer {
  readonly #server: RuntimeApiServer;
  readonly #timeoutSeconds: number;

  constructor(container: StartedTestContainer, server: RuntimeApiServer, timeoutSeconds: number) {
    super(container);
    this.#server = server;
    this.#timeoutSeconds = timeoutSeconds;
  }

  /** The Runtime API the container's runtime talks to. */
  get runtimeApi(): RuntimeApiServer {
    return this.#server;
  }

  async invoke(payload: unknown): Promise<LambdaInvokeResult> {
    let timer: NodeJS.Timeout | undefined;
    const requestId = randomUUID();
    const outcome = await Promise.race([
      this.#server.invoke(payload, { requestId, timeoutMs: this.#timeoutSeconds * 1000 }),
      new Promise<{ kind: 'timeout' }>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), this.#timeoutSeconds * 1000);
      }),
    ]).finally(() => clearTimeout(timer));
    let body: Buffer;
    let failed = true;
    switch (outcome.kind) {
      case 'response':
        body = outcome.body;
        failed = false;
        break;
      case 'stream':
        body = outcome.body;
        failed = outcome.errorType !== undefined || outcome.truncated === true;
        break;
      case 'error':
        body = outcome.body;
        break;
      case 'too-large':
        body = errorDocument(RESPONSE_TOO_LARGE_ERROR_TYPE, responseTooLargeMessage(MAX_RESPONSE_BYTES));
        break;
      case 'truncated':
        body = errorDocument(
          EXIT_ERROR_TYPE,
          invocationErrorMessage(requestId, 'the runtime closed its connection before its answer was complete'),
        );
        break;
      case 'init-error':
        body = errorDocument(outcome.errorType, String(outcome.error.errorMessage ?? ''));
        break;
      case 'timeout':
        this.#server.abandon(requestId);
        body = timedOutDocument(requestId, this.#timeoutSeconds);
        break;
    }
    return {
      functionError: failed ? 'Unhandled' : undefined,
      payload: body,
      outcome,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    };
  }

  override async stop(...args: Parameters<StartedTestContainer['stop']>) {
    try {
      return await super.stop(...args);
    } finally {
      await this.#server.close();
    }
  }
}
