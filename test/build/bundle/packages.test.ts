import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../../src/emulator/emulator.ts';
import { bundleFunction, type BundleOptions } from '../../../src/build/bundle/bundle.ts';
import { kitError, makeProject, removeAll } from '../support.ts';

const cleanup: string[] = [];
afterAll(() => removeAll(cleanup));

const pkg = (fields: Record<string, unknown>) => JSON.stringify({ version: '1.0.0', ...fields });

/** The first bytes of a Linux shared object for a machine (62 x86_64, 183 aarch64): enough to be told apart. */
function elf(machine: number): Buffer {
  const header = Buffer.alloc(64);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header[6] = 1;
  header.writeUInt16LE(3, 16); // shared object
  header.writeUInt16LE(machine, 18);
  return header;
}

const project = {
  'package.json': JSON.stringify({ name: 'app', type: 'module', private: true }),
  'handler.mjs': [
    "import { greet } from 'greeter';",
    "import { old } from 'old';",
    "import info from 'cjs-dep';",
    'export const handler = async () => ({ greeting: greet("Ada"), old: old("x"), platform: info.platform });',
  ].join('\n'),
  // greeter needs shout@2 (nested under it on disk); old needs shout@1 (hoisted on disk).
  'node_modules/greeter/package.json': pkg({ name: 'greeter', type: 'module', main: 'index.js', dependencies: { shout: '^2' } }),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a package under test, with a template literal in it
  'node_modules/greeter/index.js': "import shout from 'shout';\nexport const greet = (name) => shout(`greeter says hello ${name}`);\n",
  'node_modules/greeter/node_modules/shout/package.json': pkg({ name: 'shout', version: '2.0.0', main: 'index.js' }),
  'node_modules/greeter/node_modules/shout/index.js': "module.exports = (text) => text.toUpperCase() + '!';\n",
  'node_modules/old/package.json': pkg({ name: 'old', type: 'module', main: 'index.js', dependencies: { shout: '^1' } }),
  'node_modules/old/index.js': "import shout from 'shout';\nexport const old = (text) => shout(text);\n",
  'node_modules/shout/package.json': pkg({ name: 'shout', main: 'index.js' }),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a package under test, with a template literal in it
  'node_modules/shout/index.js': 'module.exports = (text) => `shout@1 ${text}`;\n',
  'node_modules/unrelated/package.json': pkg({ name: 'unrelated' }),
  // A CommonJS dependency that requires a built-in: bundled, it needs the require banner.
  'node_modules/cjs-dep/package.json': pkg({ name: 'cjs-dep', main: 'index.js' }),
  'node_modules/cjs-dep/index.js': "module.exports = { platform: require('node:os').platform() };\n",
};

function bundle(root: string, options: Partial<BundleOptions> = {}) {
  return bundleFunction({ name: 'app', entry: join(root, 'handler.mjs'), exportName: 'handler', root, arch: 'x86_64', ...options });
}

describe('externals', () => {
  it('leaves externals out of the bundle and ships them with their production dependencies, resolvable as on disk', async () => {
    const root = await makeProject(project, cleanup);
    const result = await bundle(root, { external: ['greeter', 'old'] });
    expect(result.files.map((file) => file.path)).toEqual([
      'index.mjs',
      'index.mjs.map',
      'node_modules/greeter/index.js',
      'node_modules/greeter/package.json',
      'node_modules/old/index.js',
      'node_modules/old/node_modules/shout/index.js',
      'node_modules/old/node_modules/shout/package.json',
      'node_modules/old/package.json',
      'node_modules/shout/index.js',
      'node_modules/shout/package.json',
    ]);
    const code = result.files[0]!.data.toString('utf8');
    expect(code).not.toContain('greeter says hello');
    expect(code).toMatch(/from"greeter"/);
    // shout@2 (greeter's) is hoisted; old's shout@1 is nested under it.
    const file = (path: string) => result.files.find((entry) => entry.path === path)!.data.toString();
    expect(file('node_modules/shout/package.json')).toContain('2.0.0');
    expect(file('node_modules/old/node_modules/shout/package.json')).toContain('1.0.0');

    // It runs: index.mjs with this machine's Node, under the emulator.
    const taskRoot = await mkdtemp(join(tmpdir(), 'lambda-kit-task-'));
    cleanup.push(taskRoot);
    for (const entry of result.files) {
      await mkdir(dirname(join(taskRoot, entry.path)), { recursive: true });
      await writeFile(join(taskRoot, entry.path), entry.data);
    }
    const emulator = await Emulator.start({
      functions: [{ name: 'app', source: { command: [process.execPath, 'index.mjs'], taskRoot } }],
      log: () => {},
    });
    try {
      const answer = await emulator.invoke('app', { payload: Buffer.from('{}') });
      expect(JSON.parse(answer.body.toString())).toEqual({
        greeting: 'GREETER SAYS HELLO ADA!',
        old: 'shout@1 x',
        platform: process.platform,
      });
    } finally {
      await emulator.close();
    }
  });

  it('says when an external is not installed', async () => {
    const root = await makeProject(project, cleanup);
    const error = await kitError(bundle(root, { external: ['left-pad'] }));
    expect(error.code).toBe('LK_KIT_EXTERNAL_NOT_FOUND');
    expect(error.message).toMatch(/--external left-pad: the package is not installed/);
  });
});

describe('native addons', () => {
  const nativeProject = (addon: Buffer) => ({
    'package.json': JSON.stringify({ name: 'app', type: 'module' }),
    'handler.mjs': "import thing from 'native-thing';\nexport const handler = async () => thing.hello();\n",
    'node_modules/native-thing/package.json': pkg({ name: 'native-thing', main: 'index.js' }),
    'node_modules/native-thing/index.js': "module.exports = require('./build/Release/thing.node');\n",
    'node_modules/native-thing/build/Release/thing.node': addon,
  });

  it('refuses to bundle a package with a .node file, naming it and saying what to do', async () => {
    const root = await makeProject(nativeProject(elf(62)), cleanup);
    const error = await kitError(bundle(root));
    expect(error.code).toBe('LK_KIT_NATIVE_ADDON');
    expect(error.message).toMatch(/package "native-thing" contains a native addon \(build\/Release\/thing\.node/);
    expect(error.message).toMatch(/Mark it --external native-thing: .*accepted when its binary is for linux-x86_64/);
  });

  it.each([
    [
      'bindings',
      { 'index.js': "module.exports = require('bindings')('thing');\n" },
      { dependencies: { bindings: '^1' } },
      /loads its addon with bindings|depends on bindings/,
    ],
    [
      'node-gyp-build',
      { 'index.js': "module.exports = require('node-gyp-build')(__dirname);\n" },
      { dependencies: { 'node-gyp-build': '^4' } },
      /node-gyp-build/,
    ],
    ['binding.gyp', { 'index.js': 'module.exports = {};\n', 'binding.gyp': '{}' }, {}, /binding\.gyp/],
  ])('refuses a package that uses %s', async (_what, files, fields, evidence) => {
    const root = await makeProject(
      {
        'package.json': JSON.stringify({ name: 'app', type: 'module' }),
        'handler.mjs': "import it from 'addon-user';\nexport const handler = async () => it;\n",
        'node_modules/addon-user/package.json': pkg({ name: 'addon-user', main: 'index.js', ...fields }),
        ...Object.fromEntries(Object.entries(files).map(([path, contents]) => [`node_modules/addon-user/${path}`, contents])),
        'node_modules/bindings/package.json': pkg({ name: 'bindings', main: 'index.js' }),
        'node_modules/bindings/index.js': 'module.exports = () => ({});\n',
        'node_modules/node-gyp-build/package.json': pkg({ name: 'node-gyp-build', main: 'index.js' }),
        'node_modules/node-gyp-build/index.js': 'module.exports = () => ({});\n',
      },
      cleanup,
    );
    const error = await kitError(bundle(root, { arch: 'arm64' }));
    expect(error.code).toBe('LK_KIT_NATIVE_ADDON');
    expect(error.message).toMatch(/package "addon-user" contains a native addon/);
    expect(error.message).toMatch(evidence);
    expect(error.message).toMatch(/linux-arm64/);
  });

  it('ships an external addon built for the target arch, and refuses one built for another', async () => {
    const root = await makeProject(nativeProject(elf(62)), cleanup);
    const result = await bundle(root, { external: ['native-thing'], arch: 'x86_64' });
    expect(result.files.map((file) => file.path)).toContain('node_modules/native-thing/build/Release/thing.node');
    const error = await kitError(bundle(root, { external: ['native-thing'], arch: 'arm64' }));
    expect(error.code).toBe('LK_KIT_NATIVE_ADDON');
    expect(error.message).toMatch(
      /package "native-thing" contains a native addon .* its binaries are for linux-x86_64, none for linux-arm64\. Install its prebuilt binary for linux-arm64 \(npm install --os=linux --cpu=arm64\)/,
    );
  });
});
