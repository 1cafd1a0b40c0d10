import { describe, expect, it } from 'vitest';
import { bundleOf } from '../support/bundle.ts';

// Code that ships inside every function may import node:* built-ins and runtime/ files, nothing else.
describe('bundles of code that ships inside functions', () => {
  for (const [name, entry, mayContain] of [
    ['runtime', 'runtime/index.ts', /^runtime\/(?!http\/|extension\/|events\/)/],
    // The HTTP adapter and the extension library sit on the runtime: they may use runtime/ files, never the reverse (checked above).
    ['http adapter', 'runtime/http/index.ts', /^runtime\/(?!extension\/|events\/)/],
    ['extension library', 'runtime/extension/index.ts', /^runtime\/(?!http\/|events\/)/],
  ] as const) {
    it(`${name}: only runtime/ files, only node:* imports`, async () => {
      const { inputs, externals, bytes } = await bundleOf(entry);
      const outsiders = inputs.filter((input) => !mayContain.test(input));
      expect(outsiders, `files that may not be in the ${name} bundle: ${outsiders.join(', ')}`).toEqual([]);
      const nonBuiltins = externals.filter((path) => !path.startsWith('node:'));
      expect(nonBuiltins, `the ${name} imports non-built-in modules: ${nonBuiltins.join(', ')}`).toEqual([]);
      expect(inputs.some((input) => input.includes('zod'))).toBe(false);
      console.log(`${name} bundle: ${bytes} bytes minified, ${inputs.length} files, imports ${[...new Set(externals)].join(' ')}`);
      expect(bytes).toBeGreaterThan(1000);
    });
  }
});
