// --snapshot for each architecture (arm64: the snapshot made by the arm64 Node under
// qemu, and run under qemu): the zip unpacked into a FROM-scratch image that holds
// nothing else, run through LambdaContainer against a Runtime API on 127.0.0.1.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
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
  filesOf,
  invokeSelfServingImage,
  removeImage,
  requireDockerAndBase,
  type Arch,
} from '../../support/docker.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = 'test/fixtures/functions/snapshot-handler.ts';

describe.each(ARCHES)('--snapshot artifacts on linux/%s', (arch: Arch) => {
  const id = randomUUID().slice(0, 8);
  const image = `lambda-kit/test-snapshot-in-scratch:${arch}-${id}`;
  const functionImage = `lambda-kit/test-snapshot-image:${arch}-${id}`;
  let lambda: StartedLambdaContainer | undefined;
  let out: string;

  beforeAll(async () => {
    await requireDockerAndBase(arch);
    out = await mkdtemp(join(tmpdir(), 'lambda-kit-snapshot-artifacts-'));
  });
  afterAll(async () => {
    await lambda?.stop().catch(() => undefined);
    await removeImage(image);
    await removeImage(functionImage);
    await rm(out, { recursive: true, force: true });
  });

  it('runs the zip in an otherwise empty FROM-scratch container: zod from the snapshot, the handler at start', async () => {
    const { artifacts } = await buildProject({
      cwd: repoRoot,
      selector: ENTRY,
      overrides: { arch: KIT_ARCH[arch], out, snapshot: true },
      cacheDir: defaultCacheDir(),
    });
    const unpacked = join(out, 'unpacked');
    await extract(artifacts[0]!.path, { dir: unpacked });
    await buildFunctionImage({ files: await filesOf(unpacked), arch: KIT_ARCH[arch], baseImage: 'scratch', tag: image });
    lambda = await new LambdaContainer(image)
      .withPlatform(`linux/${arch}`)
      .withFunctionName('snapshot')
      .withFunctionTimeout(60)
      .withEnvironment({ GREETING: 'Welcome' })
      .start();
    const answer = await lambda.invoke({ name: 'Ada' });
    expect(answer.functionError, answer.payload.toString()).toBeUndefined();
    expect(answer.json()).toMatchObject({
      // GREETING is read by the handler's module-level code: the container's, so evaluated at start.
      greeting: 'Welcome, Ada!',
      arch: NODE_ARCH[arch],
      initWhileBuilding: false,
      // The runtime loop is in the snapshot as well (keyed by its specifier), beside the packages.
      snapshotModules: ['lambda-kit/runtime', expect.stringMatching(/^node_modules\/zod\//)],
    });
    expect(answer.json<{ node: string }>().node).toMatch(/^v24\./);
    const invalid = await lambda.invoke({});
    expect(invalid.functionError).toBe('Unhandled');
    expect(invalid.json()).toMatchObject({ errorType: 'ZodError' });
  });

  it('serves itself under plain docker run (no AWS_LAMBDA_RUNTIME_API) as an image built with --format image', async () => {
    await buildProject({
      cwd: repoRoot,
      selector: ENTRY,
      overrides: { arch: KIT_ARCH[arch], out, snapshot: true, format: 'image', baseImage: baseImage(arch), imageTag: functionImage },
      cacheDir: defaultCacheDir(),
    });
    const answer = await invokeSelfServingImage(functionImage, arch, '{"name":"Docker"}');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      greeting: 'Hello, Docker!',
      arch: NODE_ARCH[arch],
      snapshotModules: ['lambda-kit/runtime', expect.stringMatching(/zod/)],
    });
  });
});
