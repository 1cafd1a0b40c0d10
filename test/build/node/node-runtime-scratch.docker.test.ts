// The Node runtime of a function artifact (src/build/node/node-runtime.ts) runs
// whatever glibc the target has: bootstrap + lib/ + a bundled function at
// /var/task in a FROM scratch image that holds nothing else (no glibc, no
// shell), for linux/amd64 and linux/arm64 (under qemu on x86_64 hosts), served
// invocations by an in-process Runtime API server on 127.0.0.1 (host networking).
// A second image, FROM the first, adds decoys: unusable libc/libstdc++ files in
// /lib64 and /usr/lib64 (where AWS's base images point LD_LIBRARY_PATH) and a
// .lambda-kit/local-emulator.mjs next to bootstrap.
//
// No skipping: without Docker these tests fail and say why.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { GenericContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeApiServer } from '../../../src/emulator/apis/runtime-api-server.ts';
import { buildNodeRuntime, writeNodeRuntime, type NodeRuntime } from '../../../src/build/node/node-runtime.ts';
import {
  ARCHES,
  KIT_ARCH,
  NODE_ARCH,
  bundleTestFunction,
  cleanUpAll,
  docker,
  removeImage,
  requireDocker,
  type Arch,
} from '../../support/docker.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/functions/greet.ts', import.meta.url));
const CACHE = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const RUN_TIMEOUT_MS = 120_000;
const DECOY = 'not a shared library: if the loader takes this, bootstrap does not start\n';

/** Rejects after `ms` with `what` and the container output so far, instead of hanging. */
async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits `docker logs` output of a container without a TTY into stdout and stderr. */
function demux(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(offset + 4);
    (buffer[offset] === 2 ? err : out).push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

describe.each(ARCHES)('a bootstrap for linux/%s in a FROM scratch image', (arch: Arch) => {
  const id = randomUUID().slice(0, 8);
  const image = `lambda-kit/test-node-runtime-scratch:${arch}-${id}`;
  const decoyImage = `lambda-kit/test-node-runtime-scratch:${arch}-${id}-decoys`;
  const functionName = `scratch-${arch}`;
  const containers = new Set<Docker.Container>();
  let runtime: NodeRuntime;

  const lambdaEnv = (api: string) => [
    `AWS_LAMBDA_RUNTIME_API=${api}`,
    `AWS_LAMBDA_FUNCTION_NAME=${functionName}`,
    'AWS_LAMBDA_FUNCTION_VERSION=$LATEST',
    'AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128',
    'AWS_REGION=us-east-1',
  ];

  async function create(name: string, env: string[]): Promise<Docker.Container> {
    const container = await docker.createContainer({ Image: name, Env: env, Tty: false, HostConfig: { NetworkMode: 'host' } });
    containers.add(container);
    return container;
  }

  async function output(container: Docker.Container): Promise<{ stdout: string; stderr: string }> {
    return demux((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
  }

  async function remove(container: Docker.Container): Promise<void> {
    await container.remove({ force: true });
    containers.delete(container);
  }

  /** Starts the image against a fresh Runtime API server and invokes it once. */
  async function invokeOnce(name: string, env: string[] = []) {
    const server = await RuntimeApiServer.start({ host: '127.0.0.1', port: 0 });
    const container = await create(name, [...lambdaEnv(server.address), ...env]);
    try {
      await container.start();
      let logs = '';
      const outcome = await within(server.invoke({ name: 'Ada' }), RUN_TIMEOUT_MS, () => `invoke (${name}): ${logs}`).catch(
        async (error: Error) => {
          const { stdout, stderr } = await output(container);
          logs = `${stdout}${stderr}`;
          throw new Error(`${error.message}\ncontainer output:\n${logs || '(none)'}`, { cause: error });
        },
      );
      return { outcome, logs: await output(container) };
    } finally {
      await remove(container);
      await server.close();
    }
  }

  /** Runs the image to its end without a Runtime API. */
  async function runToExit(name: string, env: string[] = []) {
    const container = await create(name, env);
    try {
      await container.start();
      const { StatusCode } = await within(
        container.wait() as Promise<{ StatusCode: number }>,
        RUN_TIMEOUT_MS,
        () => `${name} still running`,
      );
      return { exitCode: StatusCode, ...(await output(container)) };
    } finally {
      await remove(container);
    }
  }

  beforeAll(async () => {
    await requireDocker();
    runtime = await buildNodeRuntime({ arch: KIT_ARCH[arch], root: '/var/task', cacheDir: CACHE });
    const dir = await mkdtemp(join(tmpdir(), `lambda-kit-scratch-${arch}-`));
    try {
      await writeNodeRuntime(runtime, join(dir, 'task'));
      await bundleTestFunction(FIXTURE, join(dir, 'task', 'index.mjs'));
      await writeFile(
        join(dir, 'Dockerfile'),
        ['FROM scratch', 'COPY task/ /var/task/', 'ENTRYPOINT ["/var/task/bootstrap"]', ''].join('\n'),
      );
      await GenericContainer.fromDockerfile(dir).withPlatform(`linux/${arch}`).build(image, { deleteOnExit: false });

      const decoys = join(dir, 'decoys');
      for (const libDir of ['lib64', 'usr/lib64']) {
        await mkdir(join(decoys, libDir), { recursive: true });
        for (const lib of ['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libpthread.so.0', 'libdl.so.2']) {
          await writeFile(join(decoys, libDir, lib), DECOY);
        }
      }
      await mkdir(join(decoys, 'var/task/.lambda-kit'), { recursive: true });
      await writeFile(
        join(decoys, 'var/task/.lambda-kit/local-emulator.mjs'),
        "console.log(JSON.stringify({ emulator: 'here', arch: process.arch, execPath: process.execPath }));\n",
      );
      await writeFile(join(dir, 'Dockerfile.decoys'), [`FROM ${image}`, 'COPY decoys/ /', ''].join('\n'));
      await GenericContainer.fromDockerfile(dir, 'Dockerfile.decoys')
        .withPlatform(`linux/${arch}`)
        .build(decoyImage, { deleteOnExit: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const inspected = await docker.getImage(image).inspect();
    expect(inspected.Architecture, `${image} has the wrong platform`).toBe(arch);
  });

  afterAll(() =>
    cleanUpAll(`the ${arch} scratch images`, [
      ...[...containers].map((container) => () => remove(container)),
      () => removeImage(decoyImage),
      () => removeImage(image),
    ]),
  );

  it('holds only bootstrap, lib/ and index.mjs, and answers an invocation on its own arch and Node', async () => {
    const layers = (await docker.getImage(image).history()) as Array<{ CreatedBy: string }>;
    expect(layers.filter((layer) => /COPY|ADD/.test(layer.CreatedBy))).toHaveLength(1);
    expect(runtime.files.map((f) => f.path.split('/')[0])).toEqual(expect.arrayContaining(['bootstrap', 'lib']));

    const { outcome, logs } = await invokeOnce(image);
    expect(outcome.kind, `container output:\n${logs.stdout}${logs.stderr}`).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(JSON.parse(outcome.body.toString('utf8'))).toMatchObject({
      greeting: 'Hello, Ada!',
      arch: NODE_ARCH[arch],
      node: `v${runtime.nodeVersion}`,
      functionName,
      requestId: outcome.requestId,
    });
  });

  it('does not care about LD_LIBRARY_PATH=/lib64:/usr/lib64', async () => {
    const { outcome, logs } = await invokeOnce(image, ['LD_LIBRARY_PATH=/lib64:/usr/lib64']);
    expect(outcome.kind, `container output:\n${logs.stdout}${logs.stderr}`).toBe('response');
  });

  it('does not care either when that LD_LIBRARY_PATH holds an unusable libc.so.6, libstdc++.so.6, ...', async () => {
    const { outcome, logs } = await invokeOnce(decoyImage, ['LD_LIBRARY_PATH=/lib64:/usr/lib64']);
    expect(outcome.kind, `container output:\n${logs.stdout}${logs.stderr}`).toBe('response');
    if (outcome.kind !== 'response') return;
    expect(JSON.parse(outcome.body.toString('utf8'))).toMatchObject({ greeting: 'Hello, Ada!', arch: NODE_ARCH[arch] });
  });

  it('runs .lambda-kit/local-emulator.mjs next to bootstrap when AWS_LAMBDA_RUNTIME_API is not set', async () => {
    const result = await runToExit(decoyImage, ['LD_LIBRARY_PATH=/lib64:/usr/lib64']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ emulator: 'here', arch: NODE_ARCH[arch], execPath: '/var/task/bootstrap' });
  });

  it('says what it is and exits 1 when AWS_LAMBDA_RUNTIME_API is not set and there is no emulator', async () => {
    const result = await runToExit(image);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'AWS_LAMBDA_RUNTIME_API is not set: this is a Lambda bootstrap; run it under Lambda or `lambda-kit emulate`\n',
    );
  });
});
