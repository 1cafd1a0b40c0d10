// The runtime loop in real containers, one per architecture: a tiny function is
// bundled with esbuild, put into an image built FROM the local stand-in base
// (lambda-kit/base:al2023-local-<arch>, made by scripts/setup.sh), and served
// invocations by an in-process Runtime API server on 127.0.0.1 (host
// networking). arm64 runs under qemu on x86_64 hosts, and the other way round.
//
// No skipping: without Docker or the base images these tests fail and say why.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeApiServer } from '../../src/emulator/runtime-api-server.ts';
import { ARCHES, NODE_ARCH, buildFunctionImage, removeImage, requireDockerAndBase } from '../support/docker.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/functions/greet.ts', import.meta.url));
const INVOKE_TIMEOUT_MS = 60_000;

/** Rejects after `ms` with what the container logged, instead of hanging until vitest's timeout. */
async function within<T>(promise: Promise<T>, ms: number, what: string, logs: string[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${ms} ms; container output:\n${logs.join('') || '(none)'}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each(ARCHES)('runtime loop in a linux/%s container', (arch) => {
  const imageName = `lambda-kit/test-runtime-in-container:${arch}-${randomUUID().slice(0, 8)}`;
  const functionName = `docker-test-${arch}`;
  const logs: string[] = [];
  let server: RuntimeApiServer | undefined;
  let container: StartedTestContainer | undefined;

  beforeAll(async () => {
    await requireDockerAndBase(arch);
    server = await RuntimeApiServer.start({ host: '127.0.0.1', port: 0 });
    await buildFunctionImage(FIXTURE, arch, imageName);
    container = await new GenericContainer(imageName)
      .withPlatform(`linux/${arch}`)
      .withNetworkMode('host')
      .withEnvironment({
        AWS_LAMBDA_RUNTIME_API: server.address,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
        AWS_LAMBDA_LOG_STREAM_NAME: 'docker-test',
        AWS_REGION: 'us-east-1',
      })
      .withLogConsumer((stream) => stream.on('data', (chunk) => logs.push(String(chunk))))
      .start();
  });

  afterAll(async () => {
    const problems: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(error);
      }
    };
    await attempt(async () => container?.stop({ remove: true, timeout: 1_000 }));
    await attempt(() => removeImage(imageName));
    await attempt(async () => server?.close());
    if (problems.length > 0) throw new AggregateError(problems, `cleaning up after the ${arch} container failed`);
  });

  it('answers an invocation with what the handler returned', async () => {
    const outcome = await within(server!.invoke({ name: 'Ada' }), INVOKE_TIMEOUT_MS, 'invoke', logs);
    expect(outcome.kind, `container output:\n${logs.join('')}`).toBe('response');
    if (outcome.kind !== 'response') return;
    const result = JSON.parse(outcome.body.toString('utf8'));
    expect(result).toMatchObject({
      greeting: 'Hello, Ada!',
      arch: NODE_ARCH[arch],
      functionName,
    });
    expect(result.node).toMatch(/^v24\./);
    expect(result.requestId).toBe(outcome.requestId);
  });

  it('reports a thrown error on /error with its type, message and stack', async () => {
    const outcome = await within(server!.invoke({}), INVOKE_TIMEOUT_MS, 'invoke', logs);
    expect(outcome.kind, `container output:\n${logs.join('')}`).toBe('error');
    if (outcome.kind !== 'error') return;
    expect(outcome.errorType).toBe('TypeError');
    expect(outcome.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'event.name is missing' });
    expect(outcome.error.stackTrace).toEqual(expect.arrayContaining([expect.stringContaining('/var/task/index.mjs')]));
  });
});
