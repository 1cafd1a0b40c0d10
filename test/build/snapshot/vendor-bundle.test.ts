import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleVendor } from '../../../src/build/snapshot/vendor-bundle.ts';

const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('bundleVendor', () => {
  it('shortens names in the vendor bundle of --snapshot (its code runs at build time), keeping them for name', async () => {
    const project = await mkdtemp(join(tmpdir(), 'lambda-kit-vendor-'));
    dirs.push(project);
    await mkdir(join(project, 'node_modules/fake'), { recursive: true });
    await writeFile(
      join(project, 'node_modules/fake/index.js'),
      'function aDescriptiveName() { return 1; }\nmodule.exports = { aDescriptiveName };\n',
    );
    await writeFile(join(project, 'handler.js'), "export { aDescriptiveName as handler } from 'fake';\n");
    const vendor = await bundleVendor([{ key: 'node_modules/fake/index.js', package: 'fake', format: 'cjs' }], {
      root: project,
      entry: join(project, 'handler.js'),
      arch: 'x86_64',
    });
    const code = vendor.code.toString('utf8');
    expect(code).not.toContain('function aDescriptiveName(');
    // keepNames: the function's name property survives the shortening.
    expect(code).toContain('"aDescriptiveName"');
  });

  describe("the vendor bundle of --snapshot lets go of each CommonJS module's body once it has run", () => {
    /** A package of two CommonJS modules that require each other, one with a long top-level body; and a handler importing it. */
    async function vendorOfCycle() {
      const project = await mkdtemp(join(tmpdir(), 'lambda-kit-vendor-'));
      dirs.push(project);
      await mkdir(join(project, 'node_modules/cycle'), { recursive: true });
      // Classes and functions, as a package's top level mostly is (the AWS SDK's client: thousands).
      const longBody = Array.from(
        { length: 1000 },
        (_, i) =>
          `class C${i} { constructor(v) { this.v = v; } get scaled() { return this.v * ${i}; } }\nexports.C${i} = C${i};\nexports.f${i} = (x) => x + ${i};`,
      ).join('\n');
      await writeFile(
        join(project, 'node_modules/cycle/index.js'),
        `exports.early = 'set before b';\nconst b = require('./b.js');\nexports.seenByB = b.sawEarly;\nexports.loads = (globalThis.cycleLoads = (globalThis.cycleLoads ?? 0) + 1);\n${longBody}\n`,
      );
      await writeFile(join(project, 'node_modules/cycle/b.js'), "exports.sawEarly = require('./index.js').early;\n");
      await writeFile(join(project, 'handler.js'), "export { seenByB as handler } from 'cycle';\n");
      return bundleVendor([{ key: 'node_modules/cycle/index.js', package: 'cycle', format: 'cjs' }], {
        root: project,
        entry: join(project, 'handler.js'),
        arch: 'x86_64',
      });
    }

    /**
     * Makes a startup snapshot of vendor code evaluated as the snapshot's build script does
     * (snapshot-launcher.cjs), with this Node; the snapshot's size, and what its module exports at start.
     */
    async function snapshotOf(code: string): Promise<{ bytes: number; seenByB: string; loads: number; made: number[]; again: boolean }> {
      const { execFileSync } = await import('node:child_process');
      const { stat } = await import('node:fs/promises');
      const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-vendor-run-'));
      dirs.push(dir);
      await writeFile(join(dir, 'vendor.cjs'), code);
      await writeFile(
        join(dir, 'build.cjs'),
        `const table = {};
        const module = { exports: {} };
        new Function('require', 'module', 'exports', '__lambdaKitSnapshotLoad', require('node:fs').readFileSync(${JSON.stringify(join(dir, 'vendor.cjs'))}, 'utf8'))(
          require, module, module.exports, (key, pkg, load) => { table[key] = load(); });
        require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {
          const cycle = table['node_modules/cycle/index.js'];
          const made = [new cycle.C999(2).scaled, cycle.f999(1)];
          console.log(JSON.stringify({ seenByB: cycle.seenByB, loads: cycle.loads, made, again: cycle === table['node_modules/cycle/index.js'] }));
        });\n`,
      );
      const blob = join(dir, 'snapshot.blob');
      execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', join(dir, 'build.cjs')], { cwd: dir });
      const started = JSON.parse(execFileSync(process.execPath, ['--snapshot-blob', blob], { encoding: 'utf8' }));
      return { bytes: (await stat(blob)).size, ...started };
    }

    it("loads as esbuild's own wrapper would, a require cycle included", async () => {
      const vendor = await vendorOfCycle();
      const code = vendor.code.toString('utf8');
      // The wrapper as released: the body's variable set to 0 once it has run.
      expect(code).toMatch(/\(\(\w+=\{exports:\{\}\}\)\.exports,\w+\),\w+=0\)/);
      const started = await snapshotOf(code);
      expect(started).toMatchObject({ seenByB: 'set before b', loads: 1, made: [1998, 1000], again: true });
    });

    it("holds no module's body in the snapshot once it has run (esbuild's wrapper as written keeps each)", async () => {
      const code = (await vendorOfCycle()).code.toString('utf8');
      // esbuild's own wrapper: the release undone.
      const kept = code.replace(
        /\|\|\(([\w$]+)\(\(([\w$]+)=\{exports:\{\}\}\)\.exports,\2\),\1=0\),/,
        '||$1(($2={exports:{}}).exports,$2),',
      );
      expect(kept).not.toBe(code);
      const [released, held] = [await snapshotOf(code), await snapshotOf(kept)];
      expect(held.made).toEqual(released.made);
      // Measured: 555 KB more in the snapshot (its isolate part: 2.41 against 1.85 MB) while the body is kept.
      expect(held.bytes - released.bytes).toBeGreaterThan(200_000);
    });
  });
});
