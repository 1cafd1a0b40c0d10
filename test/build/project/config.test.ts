import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostArch } from '../../../src/build/project/choices.ts';
import { resolveProject } from '../../../src/build/project/resolve.ts';
import { kitError, makeProject, removeAll } from '../support.ts';

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
      expect.objectContaining({
        name: 'api',
        entry: join(cwd, 'src/api.ts'),
        arch: 'arm64',
        target: 'al2',
        external: ['left-pad', 'pg'],
        format: 'zip',
        layout: 'self-contained',
        nodeMajor: 24,
        exportName: 'handler',
        minify: true,
        sourcemap: true,
        sourcesContent: false,
      }),
      expect.objectContaining({ name: 'worker', arch: 'x86_64', target: 'al2023', exportName: 'jobs.run', minify: false }),
    ]);
    const overridden = await resolveProject({
      cwd,
      selector: 'worker',
      overrides: { arch: 'arm64', layout: 'thin', nodeMajor: '22', external: ['x'] },
    });
    expect(overridden.functions).toEqual([
      expect.objectContaining({ name: 'worker', arch: 'arm64', layout: 'thin', nodeMajor: 22, external: ['left-pad', 'x'] }),
    ]);
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

  it('takes a top-level imageTag as the shorthand function\'s tag (--tag still wins), and refuses it beside "functions"', async () => {
    const shorthand = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ entry: 'src/api.ts', name: 'api', format: 'image', imageTag: 'shop/api:v1' }),
        'src/api.ts': handler,
      },
      cleanup,
    );
    expect((await resolveProject({ cwd: shorthand })).functions).toEqual([
      expect.objectContaining({ name: 'api', format: 'image', imageTag: 'shop/api:v1' }),
    ]);
    expect((await resolveProject({ cwd: shorthand, selector: 'src/api.ts' })).functions).toEqual([
      expect.objectContaining({ name: 'api', imageTag: 'shop/api:v1' }),
    ]);
    expect((await resolveProject({ cwd: shorthand, overrides: { imageTag: 'shop/api:v2' } })).functions).toEqual([
      expect.objectContaining({ imageTag: 'shop/api:v2' }),
    ]);

    const named = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({
          format: 'image',
          imageTag: 'shop/all:v1',
          functions: { api: { entry: 'src/api.ts' }, worker: { entry: 'src/api.ts', imageTag: 'shop/worker:v1' } },
        }),
        'src/api.ts': handler,
      },
      cleanup,
    );
    const error = await kitError(resolveProject({ cwd: named }));
    expect(error.code).toBe('LK_KIT_CONFIG');
    expect(error.message).toMatch(
      /^lambda-kit\.config\.json: imageTag: at the top level it is the tag of the single-function shorthand \("entry"\); give each function its own \(functions\.<name>\.imageTag\)$/,
    );
  });

  it('builds one file with no config at all, named after its folder', async () => {
    const cwd = await makeProject({ 'orders/handler.ts': handler }, cleanup);
    const project = await resolveProject({ cwd, selector: 'orders/handler.ts' });
    expect(project.functions).toEqual([expect.objectContaining({ name: 'orders', entry: join(cwd, 'orders/handler.ts') })]);
    expect(project.out).toBe(join(cwd, 'dist/lambda'));
  });

  it.each([
    [
      'lambda-kit.config.json',
      JSON.stringify({ functions: { api: { entry: 'a.ts', minfy: true } } }),
      /lambda-kit\.config\.json: unknown key "minfy" at functions\.api \(allowed: entry, export, arch/,
    ],
    ['lambda-kit.config.json', JSON.stringify({ funtions: {} }), /lambda-kit\.config\.json: unknown key "funtions" at the top level/],
    [
      'lambda-kit.config.mjs',
      'export default { entry: "a.ts", bogus: 1 };',
      /lambda-kit\.config\.mjs: unknown key "bogus" at the top level/,
    ],
    [
      'package.json',
      JSON.stringify({ lambda: { entry: 'a.ts', archh: 'arm64' } }),
      /package\.json#lambda: unknown key "archh" at the top level/,
    ],
    [
      'lambda-kit.config.json',
      JSON.stringify({ functions: { api: { entry: 'a.ts', arch: 'x64' } } }),
      /lambda-kit\.config\.json: functions\.api\.arch: Invalid option: expected one of "x86_64"\|"arm64"/,
    ],
    [
      'lambda-kit.config.json',
      JSON.stringify({ functions: { 'bad name': { entry: 'a.ts' } } }),
      /lambda-kit\.config\.json: functions: "bad name" is not a valid name: a function name is 1-64 letters/,
    ],
    ['lambda-kit.config.json', '{ not json', /lambda-kit\.config\.json: cannot read it as JSON/],
    [
      'lambda-kit.config.json',
      JSON.stringify({ entry: 'a.ts', functions: {} }),
      /give either "functions" or the single-function shorthand/,
    ],
  ])('%s with a mistake: a clear LK_KIT_CONFIG error naming the key and the file (%#)', async (file, contents, message) => {
    const cwd = await makeProject({ [file]: contents, 'a.ts': handler }, cleanup);
    const error = await kitError(resolveProject({ cwd }));
    expect(error.code).toBe('LK_KIT_CONFIG');
    expect(error.message).toMatch(message);
  });

  it('refuses two configs at once', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ entry: 'a.ts' }),
        'package.json': JSON.stringify({ lambda: { entry: 'a.ts' } }),
        'a.ts': handler,
      },
      cleanup,
    );
    expect((await kitError(resolveProject({ cwd }))).message).toMatch(/both lambda-kit\.config\.json and package\.json#lambda: keep one/);
  });

  it('names a missing entry, a missing function and a bad flag', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ functions: { api: { entry: 'src/api.ts' }, gone: { entry: 'src/gone.ts' } } }),
        'src/api.ts': handler,
      },
      cleanup,
    );
    const missingEntry = await kitError(resolveProject({ cwd }));
    expect(missingEntry).toMatchObject({
      code: 'LK_KIT_ENTRY_NOT_FOUND',
      message: expect.stringMatching(/function "gone": entry src\/gone\.ts does not exist \(from lambda-kit\.config\.json\)/),
    });
    const missingFunction = await kitError(resolveProject({ cwd, selector: 'nope' }));
    expect(missingFunction.message).toMatch(
      /entry nope does not exist and is not the name of a function \(functions in lambda-kit\.config\.json: api, gone\)/,
    );
    const badArch = await kitError(resolveProject({ cwd, selector: 'api', overrides: { arch: 'aarch64' } }));
    expect(badArch).toMatchObject({
      code: 'LK_KIT_BAD_OPTION',
      message: 'unknown arch "aarch64" (--arch) (did you mean arm64?): use x86_64 or arm64',
    });
    const badNode = await kitError(resolveProject({ cwd, selector: 'api', overrides: { nodeMajor: '20' } }));
    expect(badNode.message).toMatch(/unknown Node major version "20" \(--node\): use 24 or 22/);
  });

  it('picks a declared function when its entry file is given', async () => {
    const cwd = await makeProject(
      { 'lambda-kit.config.json': JSON.stringify({ functions: { api: { entry: 'src/api.ts', arch: 'arm64' } } }), 'src/api.ts': handler },
      cleanup,
    );
    expect((await resolveProject({ cwd, selector: './src/api.ts' })).functions).toEqual([
      expect.objectContaining({ name: 'api', arch: 'arm64' }),
    ]);
  });
});

describe('resolveProject: extensions', () => {
  const extension = 'await fetch("http://" + process.env.AWS_LAMBDA_RUNTIME_API);\n';

  it('reads "extensions" with the project defaults they share with functions, and flags over both', async () => {
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({
          arch: 'arm64',
          nodeMajor: 22,
          minify: false,
          functions: { api: { entry: 'src/api.ts' } },
          extensions: {
            'logs-to-file': { entry: 'ext/logs.ts' },
            counter_2: { entry: 'ext/counter.ts', arch: 'x86_64', nodeMajor: 24, sourcemap: false },
          },
        }),
        'src/api.ts': handler,
        'ext/logs.ts': extension,
        'ext/counter.ts': extension,
      },
      cleanup,
    );
    const project = await resolveProject({ cwd });
    expect(project.functions.map((fn) => fn.name)).toEqual(['api']);
    expect(project.extensions).toEqual([
      {
        name: 'logs-to-file',
        entry: join(cwd, 'ext/logs.ts'),
        arch: 'arm64',
        nodeMajor: 22,
        sourcemap: true,
        sourcesContent: false,
        minify: false,
      },
      {
        name: 'counter_2',
        entry: join(cwd, 'ext/counter.ts'),
        arch: 'x86_64',
        nodeMajor: 24,
        sourcemap: false,
        sourcesContent: false,
        minify: false,
      },
    ]);
    // A name or an entry file picks one extension (and no function); --arch and --node apply.
    const byName = await resolveProject({ cwd, selector: 'counter_2', overrides: { arch: 'arm64', nodeMajor: '22' } });
    expect(byName.functions).toEqual([]);
    expect(byName.extensions).toEqual([expect.objectContaining({ name: 'counter_2', arch: 'arm64', nodeMajor: 22 })]);
    const byFile = await resolveProject({ cwd, selector: 'ext/logs.ts' });
    expect(byFile.functions).toEqual([]);
    expect(byFile.extensions.map((item) => item.name)).toEqual(['logs-to-file']);
    expect((await resolveProject({ cwd, selector: 'api' })).extensions).toEqual([]);
  });

  it('takes extensions from package.json#lambda and lambda-kit.config.mjs, with no functions at all', async () => {
    const fromPackage = await makeProject(
      { 'package.json': JSON.stringify({ name: 'x', lambda: { extensions: { probe: { entry: 'probe.ts' } } } }), 'probe.ts': extension },
      cleanup,
    );
    expect((await resolveProject({ cwd: fromPackage })).extensions).toEqual([
      expect.objectContaining({ name: 'probe', arch: hostArch(), nodeMajor: 24 }),
    ]);
    const fromModule = await makeProject(
      {
        'lambda-kit.config.mjs': 'export default { extensions: { probe: { entry: "probe.ts", arch: "arm64" } } };\n',
        'probe.ts': extension,
      },
      cleanup,
    );
    const project = await resolveProject({ cwd: fromModule });
    expect(project.functions).toEqual([]);
    expect(project.extensions).toEqual([expect.objectContaining({ name: 'probe', arch: 'arm64' })]);
  });

  it.each([
    [
      { extensions: { 'my ext': { entry: 'a.ts' } } },
      /extensions: "my ext" is not a valid name: an extension name is letters, digits, - or _ \(its file name in \/opt\/extensions/,
    ],
    [
      { extensions: { 'ext.sh': { entry: 'a.ts' } } },
      /extensions: "ext\.sh" is not a valid name: an extension name is letters, digits, - or _/,
    ],
    [
      { extensions: { probe: { entry: 'a.ts', external: ['pg'] } } },
      /unknown key "external" at extensions\.probe \(allowed: entry, arch, nodeMajor, sourcemap, sourcesContent, minify\)/,
    ],
    [
      { extensions: { probe: { entry: 'a.ts', arch: 'aarch64' } } },
      /extensions\.probe\.arch: Invalid option: expected one of "x86_64"\|"arm64"/,
    ],
    [{ extensions: { probe: {} } }, /extensions\.probe\.entry: /],
    [{ extensions: ['probe'] }, /extensions: /],
  ])('names a mistake in "extensions" and the file (%#)', async (config, message) => {
    const cwd = await makeProject({ 'lambda-kit.config.json': JSON.stringify(config), 'a.ts': extension }, cleanup);
    const error = await kitError(resolveProject({ cwd }));
    expect(error.code).toBe('LK_KIT_CONFIG');
    expect(error.message).toMatch(/^lambda-kit\.config\.json: /);
    expect(error.message).toMatch(message);
  });

  it('refuses one name for a function and an extension, a missing entry, and function-only flags for an extension', async () => {
    const clash = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ entry: 'a.ts', name: 'probe', extensions: { probe: { entry: 'a.ts' } } }),
        'a.ts': handler,
      },
      cleanup,
    );
    expect(await kitError(resolveProject({ cwd: clash }))).toMatchObject({
      code: 'LK_KIT_CONFIG',
      message:
        'lambda-kit.config.json: "probe" is both a function and an extension: give them different names (a name picks what lambda-kit build builds)',
    });
    const cwd = await makeProject(
      {
        'lambda-kit.config.json': JSON.stringify({ extensions: { probe: { entry: 'probe.ts' }, gone: { entry: 'gone.ts' } } }),
        'probe.ts': extension,
      },
      cleanup,
    );
    expect(await kitError(resolveProject({ cwd }))).toMatchObject({
      code: 'LK_KIT_ENTRY_NOT_FOUND',
      message: 'extension "gone": entry gone.ts does not exist (from lambda-kit.config.json)',
    });
    expect((await kitError(resolveProject({ cwd, selector: 'nope' }))).message).toMatch(
      /entry nope does not exist and is not the name of a function or an extension \(extensions: probe, gone\)/,
    );
    expect(await kitError(resolveProject({ cwd, selector: 'probe', overrides: { layout: 'thin', format: 'image' } }))).toMatchObject({
      code: 'LK_KIT_BAD_OPTION',
      message: '--format, --layout are for functions; extension "probe" is always built into a layer zip: leave them out',
    });
  });
});
