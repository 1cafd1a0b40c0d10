import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The runtime ships inside every function: it may import node:* built-ins and its own files, nothing else.
describe('runtime bundle', () => {
  it('contains only runtime/ files and imports only node:* built-ins', async () => {
    const result = await build({
      entryPoints: ['runtime/index.ts'],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      minify: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const outsiders = inputs.filter((input) => !input.startsWith('runtime/'));
    expect(outsiders, `files from outside runtime/ got into the bundle: ${outsiders.join(', ')}`).toEqual([]);

    const output = Object.values(result.metafile.outputs)[0]!;
    const externals = output.imports.filter((entry) => entry.external).map((entry) => entry.path);
    const nonBuiltins = externals.filter((path) => !path.startsWith('node:'));
    expect(nonBuiltins, `the runtime imports non-built-in modules: ${nonBuiltins.join(', ')}`).toEqual([]);

    const bytes = output.bytes;
    console.log(`runtime bundle: ${bytes} bytes minified, ${inputs.length} files, imports ${[...new Set(externals)].join(' ')}`);
    expect(bytes).toBeGreaterThan(1000);
  });
});
