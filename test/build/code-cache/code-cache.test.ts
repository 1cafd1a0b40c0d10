import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extract from 'extract-zip';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProject } from '../../../src/build/build.ts';
import { invokeUnpacked, kitError, makeProject, readZip } from '../support.ts';
import { readFile } from 'node:fs/promises';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cacheDir = fileURLToPath(new URL('../../../.cache/kit', import.meta.url));
const cleanup: string[] = [];
afterAll(async () => Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true }))));

const hostArch = process.arch === 'arm64' ? 'arm64' : 'x86_64';

// --code-cache with the real Node runtime: the cache is made by the artifact's own bootstrap.
describe('lambda-kit build --code-cache', () => {
  it("ships V8's code for index.mjs, which the bootstrap hands to Node and Node accepts", async () => {
    const out = await mkdtemp(join(tmpdir(), 'lambda-kit-code-cache-'));
    cleanup.push(out);
    const { artifacts } = await buildProject({
      cwd: root,
      selector: 'hello',
      overrides: { out, arch: hostArch, codeCache: true },
      cacheDir,
    });
    const entries = readZip(await readFile(artifacts[0]!.path));
    const cache = entries.filter((entry) => entry.path.startsWith('.lambda-kit/compile-cache/'));
    expect(cache).toHaveLength(1);
    expect(cache[0]!.path).toMatch(/^\.lambda-kit\/compile-cache\/v24\.\d+\.\d+-(x64|arm64)-[0-9a-f]+-\d+\/[0-9a-f]+$/);
    expect(cache[0]!.mode & 0o777).toBe(0o644);

    // Unpacked elsewhere than where it was made: the portable cache still matches, and the function answers.
    const taskRoot = await mkdtemp(join(tmpdir(), 'lambda-kit-code-cache-task-'));
    cleanup.push(taskRoot);
    await extract(artifacts[0]!.path, { dir: taskRoot });
    const { answer, lines } = await invokeUnpacked(taskRoot, { firstName: 'Ada' }, { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    expect(JSON.parse(answer.body.toString())).toEqual({ message: 'Hello, Ada!' });
    expect(
      lines.some((line) => /V8 code cache for ESM file:\/\/.*\/index\.mjs was accepted/.test(line)),
      lines.join('\n').slice(0, 3000),
    ).toBe(true);
  });

  it('fails with LK_KIT_CODE_CACHE, and the init error, when the function cannot initialise', async () => {
    const cwd = await makeProject(
      { 'broken.ts': "throw new Error('no config at build time');\nexport const handler = () => 1;\n" },
      cleanup,
    );
    const out = join(cwd, 'out');
    const error = await kitError(
      buildProject({ cwd, selector: 'broken.ts', overrides: { out, arch: hostArch, codeCache: true }, cacheDir }),
    );
    expect(error.code).toBe('LK_KIT_CODE_CACHE');
    expect(error.message).toMatch(/--code-cache loads the function once at build time/);
    expect(error.message).toMatch(/no config at build time/);
  });
});
