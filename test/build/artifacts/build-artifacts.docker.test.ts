// What `lambda-kit build` makes, run for real for each architecture (arm64 under
// qemu), through lambda-kit/testing's LambdaContainer against a Runtime API on
// 127.0.0.1: the zip unpacked into a FROM-scratch image that holds nothing
// else (so the artifact's own Node and glibc are all there is), and the image
// format built FROM the local stand-in base. Plus the image answering plain
// `docker run` by serving itself, as AWS base images do with RIE.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject, defaultCacheDir } from '../../../src/build/build.ts';
import { buildFunctionImage } from '../../../src/build/artifacts/image.ts';
import { LambdaContainer, type StartedLambdaContainer } from '../../../src/testing/index.ts';
import {
  ARCHES,
  KIT_ARCH,
  NODE_ARCH,
  baseImage,
  docker,
  filesOf,
  invokeSelfServingImage,
  removeImage,
  requireDockerAndBase,
  type Arch,
} from '../../support/docker.ts';

const ENTRY = fileURLToPath(new URL('../../fixtures/functions/greet-handler.ts', import.meta.url));

async function checkSuccessAndError(lambda: StartedLambdaContainer, arch: Arch): Promise<void> {
  const ok = await lambda.invoke({ name: 'Ada' });
  expect(ok.functionError, ok.payload.toString()).toBeUndefined();
  expect(ok.json()).toMatchObject({ greeting: 'Hello, Ada!', arch: NODE_ARCH[arch] });
  expect(ok.json<{ node: string }>().node).toMatch(/^v24\./);
  const failed = await lambda.invoke({});
  expect(failed.functionError).toBe('Unhandled');
  expect(failed.json()).toMatchObject({ errorType: 'TypeError', errorMessage: 'event.name is missing' });
  // Source maps work at run time: the stack points at the TypeScript source.
  expect(failed.json<{ trace: string[] }>().trace.join('\n')).toMatch(/greet-handler\.ts:6:/);
}

describe.each(ARCHES)('built artifacts on linux/%s', (arch) => {
  const id = randomUUID().slice(0, 8);
  const zipImage = `lambda-kit/test-zip-in-scratch:${arch}-${id}`;
  const functionImage = `lambda-kit/test-function-image:${arch}-${id}`;
  const started: StartedLambdaContainer[] = [];
  let out: string;

  beforeAll(async () => {
    await requireDockerAndBase(arch);
    out = await mkdtemp(join(tmpdir(), 'lambda-kit-artifacts-'));
  });
  afterAll(async () => {
    for (const lambda of started) await lambda.stop().catch(() => undefined);
    await removeImage(zipImage);
    await removeImage(functionImage);
    await rm(out, { recursive: true, force: true });
  });

  const start = async (image: string) => {
    const lambda = await new LambdaContainer(image).withPlatform(`linux/${arch}`).withFunctionName('greet').withFunctionTimeout(60).start();
    started.push(lambda);
    return lambda;
  };

  it('runs the zip, unpacked into an otherwise empty FROM-scratch container', async () => {
    const { artifacts } = await buildProject({
      cwd: out,
      selector: ENTRY,
      overrides: { arch: KIT_ARCH[arch], out },
      cacheDir: defaultCacheDir(),
    });
    const zip = artifacts[0]!.path;
    const unpacked = join(out, 'unpacked');
    await extract(zip, { dir: unpacked });
    expect((await stat(join(unpacked, 'bootstrap'))).mode & 0o777).toBe(0o755);
    await buildFunctionImage({ files: await filesOf(unpacked), arch: KIT_ARCH[arch], baseImage: 'scratch', tag: zipImage });
    await checkSuccessAndError(await start(zipImage), arch);
  });

  it('runs the image built with --format image', async () => {
    const { artifacts } = await buildProject({
      cwd: out,
      selector: ENTRY,
      overrides: { arch: KIT_ARCH[arch], out, format: 'image', baseImage: baseImage(arch), imageTag: functionImage },
      cacheDir: defaultCacheDir(),
    });
    expect(artifacts[0]).toMatchObject({ format: 'image', image: functionImage, platform: `linux/${arch}` });
    // One platform, one plain image: what Lambda accepts.
    const info = await docker.getImage(functionImage).inspect();
    expect(`${info.Os}/${info.Architecture}`).toBe(`linux/${arch}`);
    await checkSuccessAndError(await start(functionImage), arch);
  });

  it('serves itself on the Invoke API under plain docker run (no AWS_LAMBDA_RUNTIME_API)', async () => {
    const answer = await invokeSelfServingImage(functionImage, arch, '{"name":"Docker"}');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ greeting: 'Hello, Docker!', arch: NODE_ARCH[arch] });
  });
});

describe('image build errors', () => {
  // Made to fail inside the build (a COPY of nothing), never by asking a registry: no traffic leaves this machine.
  it("fails the build on an error inside Docker's build stream", async () => {
    await requireDockerAndBase('amd64');
    const tag = `lambda-kit/test-never-built:${randomUUID().slice(0, 8)}`;
    const error = await buildFunctionImage({ files: [], arch: 'x86_64', baseImage: baseImage('amd64'), tag }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ code: 'LK_KIT_IMAGE_BUILD' });
    expect((error as Error).message).toMatch(/docker build of lambda-kit\/test-never-built:\w+ failed: COPY failed/);
    expect(
      await docker
        .getImage(tag)
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
  });
});
