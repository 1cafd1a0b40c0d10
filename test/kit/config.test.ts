import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostArch, resolveProject } from '../../src/kit/config.ts';
import { kitError, makeProject, removeAll } from './support.ts';

const cleanup: string[] = [];
afterAll(() => removeAll(cleanup));

const handler = 'export const handler = async () => "ok";\n';

describe('resolveProject', () => {
  it('reads functions from lambda-kit.config.json, with project defaults and flags over both', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({
          out: 'build',
          arch: 'arm64',
          external: ['left-pad'],
          functions: {
            api: { entry: 'src/api.ts', target: 'al2', external: ['pg'] },
            worker: { entry: 'src/worker.ts', export: 'jobs.run', arch: 'x86_64', minify: false },
          },
        }),
        'src/api.ts': handler,
        'src/worker.ts': handler,
      },
      cleanup,
    );
    const project = await resolveProject({ cwd });
    expect(project.configFile).toBe('lambda-kit.config.json');
    expect(project.out).toBe(join(cwd, 'build'));
    expect(project.functions).toEqual([
      expect.objectContaining({ name: 'api', entry: join(cwd, 'src/api.ts'), arch: 'arm64', target: 'al2', external: ['left-pad', 'pg'], format: 'zip', layout: 'self-contained', nodeMajor: 24, exportName: 'handler', minify: true, sourcemap: true, sourcesContent: false }),
      expect.objectContaining({ name: 'worker', arch: 'x86_64', target: 'al2023', exportName: 'jobs.run', minify: false }),
    ]);
    const overridden = await resolveProject({ cwd, selector: 'worker', overrides: { arch: 'arm64', layout: 'thin', nodeMajor: '22', external: ['x'] } });
    expect(overridden.functions).toEqual([expect.objectContaining({ name: 'worker', arch: 'arm64', layout: 'thin', nodeMajor: 22, external: ['left-pad', 'x'] })]);
  });

  it('takes the single-function shorthand from the "lambda" field of package.json', async () => {
    const cwd = await makeProject(
      { 'package.json': JSON.stringify({ name: 'x', lambda: { entry: 'src/handler.ts', target: 'al1' } }), 'src/handler.ts': handler },
      cleanup,
    );
    const project = await resolveProject({ cwd });
    expect(project.configFile).toBe('package.json#lambda');
    expect(project.functions).toEqual([expect.objectContaining({ name: 'src', target: 'al1', arch: hostArch() })]);
  });

  it('reads the default export of lambda-kit.config.mjs', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.mjs': 'export default { functions: { one: { entry: "one.ts" } }, nodeMajor: 22 };\n',
        'one.ts': handler,
      },
      cleanup,
    );
    expect((await resolveProject({ cwd })).functions).toEqual([expect.objectContaining({ name: 'one', nodeMajor: 22 })]);
  });

  it('builds one file with no config at all, named after its folder', async () => {
    const cwd = await makeProject({ 'orders/handler.ts': handler }, cleanup);
    const project = await resolveProject({ cwd, selector: 'orders/handler.ts' });
    expect(project.functions).toEqual([expect.objectContaining({ name: 'orders', entry: join(cwd, 'orders/handler.ts') })]);
    expect(project.out).toBe(join(cwd, 'dist/lambda'));
  });

  it.each([
    ['lambda-kit.config.json', JSON.stringify({ functions: { api: { entry: 'a.ts', minfy: true } } }), /lambda-kit\.config\.json: unknown key "minfy" at functions\.api \(allowed: entry, export, arch/],
    ['lambda-kit.config.json', JSON.stringify({ funtions: {} }), /lambda-kit\.config\.json: unknown key "funtions" at the top level/],
    ['lambda-kit.config.mjs', 'export default { entry: "a.ts", bogus: 1 };', /lambda-kit\.config\.mjs: unknown key "bogus" at the top level/],
    ['package.json', JSON.stringify({ lambda: { entry: 'a.ts', archh: 'arm64' } }), /package\.json#lambda: unknown key "archh" at the top level/],
    ['lambda-kit.config.json', JSON.stringify({ functions: { api: { entry: 'a.ts', arch: 'x64' } } }), /lambda-kit\.config\.json: functions\.api\.arch: Invalid option: expected one of "x86_64"\|"arm64"/],
    ['lambda-kit.config.json', JSON.stringify({ functions: { 'bad name': { entry: 'a.ts' } } }), /lambda-kit\.config\.json: functions: "bad name" is not a valid name: a function name is 1-64 letters/],
    ['lambda-kit.config.json', '{ not json', /lambda-kit\.config\.json: cannot read it as JSON/],
    ['lambda-kit.config.json', JSON.stringify({ entry: 'a.ts', functions: {} }), /give either "functions" or the single-function shorthand/],
  ])('%s with a mistake: a clear LK_KIT_CONFIG error naming the key and the file (%#)', async (file, contents, message) => {
    const cwd = await makeProject({ [file]: contents, 'a.ts': handler }, cleanup);
    const error = await kitError(resolveProject({ cwd }));
    expect(error.code).toBe('LK_KIT_CONFIG');
    expect(error.message).toMatch(message);
  });

  it('refuses two configs at once', async () => {
    const cwd = await makeProject(
      { 'lambda-kit.config.json': JSON.stringify({ entry: 'a.ts' }), 'package.json': JSON.stringify({ lambda: { entry: 'a.ts' } }), 'a.ts': handler },
      cleanup,
    );
    expect((await kitError(resolveProject({ cwd }))).message).toMatch(/both lambda-kit\.config\.json and package\.json#lambda: keep one/);
  });

  it('names a missing entry, a missing function and a bad flag', async () => {
    const cwd = await makeProject(
      { 'lambda-kit.config.json': JSON.stringify({ functions: { api: { entry: 'src/api.ts' }, gone: { entry: 'src/gone.ts' } } }), 'src/api.ts': handler },
      cleanup,
    );
    const missingEntry = await kitError(resolveProject({ cwd }));
    expect(missingEntry).toMatchObject({ code: 'LK_KIT_ENTRY_NOT_FOUND', message: expect.stringMatching(/function "gone": entry src\/gone\.ts does not exist \(from lambda-kit\.config\.json\)/) });
    const missingFunction = await kitError(resolveProject({ cwd, selector: 'nope' }));
    expect(missingFunction.message).toMatch(/entry nope does not exist and is not the name of a function \(functions in lambda-kit\.config\.json: api, gone\)/);
    const badArch = await kitError(resolveProject({ cwd, selector: 'api', overrides: { arch: 'aarch64' } }));
    expect(badArch).toMatchObject({ code: 'LK_KIT_BAD_OPTION', message: 'unknown arch "aarch64" (--arch) (did you mean arm64?): use x86_64 or arm64' });
    const badNode = await kitError(resolveProject({ cwd, selector: 'api', overrides: { nodeMajor: '20' } }));
    expect(badNode.message).toMatch(/unknown Node major version "20" \(--node\): use 24 or 22/);
  });

  it('picks a declared function when its entry file is given', async () => {
    const cwd = await makeProject(
      { 'lambda-kit.config.json': JSON.stringify({ functions: { api: { entry: 'src/api.ts', arch: 'arm64' } } }), 'src/api.ts': handler },
      cleanup,
    );
    expect((await resolveProject({ cwd, selector: './src/api.ts' })).functions).toEqual([expect.objectContaining({ name: 'api', arch: 'arm64' })]);
  });
});
