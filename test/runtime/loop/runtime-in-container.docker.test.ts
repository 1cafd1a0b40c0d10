// The runtime loop in real containers, one per architecture, through
// lambda-kit/testing's LambdaContainer: a tiny function is bundled with esbuild,
// put into an image built FROM the local stand-in base
// (lambda-kit/base:al2023-local-<arch>, made by scripts/setup.sh), and served
// invocations by a Runtime API on 127.0.0.1 (host networking). arm64 runs
// under qemu on x86_64 hosts.
//
// No skipping: without Docker or the base images these tests fail and say why.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaContainer, type StartedLambdaContainer } from '../../../src/testing/index.ts';
import { ARCHES, NODE_ARCH, buildFunctionImage, docker, removeImage, requireDockerAndBase } from '../../support/docker.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/functions/greet.ts', import.meta.url));

describe.each(ARCHES)('runtime loop in a linux/%s container (LambdaContainer)', (arch) => {
  const imageName = `lambda-kit/test-runtime-in-container:${arch}-${randomUUID().slice(0, 8)}`;
  const functionName = `docker-test-${arch}`;
  const logs: string[] = [];
  let lambda: StartedLambdaContainer | undefined;

  beforeAll(async () => {
    await requireDockerAndBase(arch);
    await buildFunctionImage(FIXTURE, arch, imageName);
    lambda = await new LambdaContainer(imageName)
      .withPlatform(`linux/${arch}`)
      .withFunctionName(functionName)
      // Generous: arm64 runs under qemu.
      .withFunctionTimeout(60)
      .withLogConsumer((stream) => stream.on('data', (chunk) => logs.push(String(chunk))))
      .start();
  });

  afterAll(async () => {
    const id = lambda?.getId();
    try {
      await lambda?.stop({ remove: true, timeout: 1_000 });
    } finally {
      await removeImage(imageName);
    }
    if (id)
      expect(
        await docker
          .getContainer(id)
          .inspect()
          .catch(() => undefined),
      ).toBeUndefined();
  });

  it('answers an invocation with what the handler returned', async () => {
    const result = await lambda!.invoke({ name: 'Ada' });
    expect(result.functionError, `container output:\n${logs.join('')}`).toBeUndefined();
    expect(result.json()).toMatchObject({ greeting: 'Hello, Ada!', arch: NODE_ARCH[arch], functionName });
    expect(result.json<{ node: string }>().node).toMatch(/^v24\./);
  });

  it('reports a thrown error on /error with its type, message and stack', async () => {
    const result = await lambda!.invoke({});
    expect(result.functionError).toBe('Unhandled');
    expect(result.outcome.kind).toBe('error');
    expect(result.json()).toMatchObject({ errorType: 'TypeError', errorMessage: 'event.name is missing' });
    expect(result.json<{ trace: string[] }>().trace).toEqual(expect.arrayContaining([expect.stringContaining('/var/task/index.mjs')]));
  });
});
