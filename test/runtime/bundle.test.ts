import { describe, expect, it } from 'vitest';
import { bundleOf } from '../support/bundle.ts';

const KB = 1024;

// Code that ships inside every function may import node:* built-ins and runtime/ files, nothing else,
// and stays within its size budget: a change that grows a bundle past it must say why, here.
// The budgets are the whole public entry (every export kept), minified as the kit minifies.
describe('bundles of code that ships inside functions', () => {
  for (const [name, entry, mayContain, budget] of [
    ['runtime', 'runtime/index.ts', /^runtime\/(?!http\/|extension\/|events\/)/, 48 * KB],
    // The HTTP adapter and the extension library sit on the runtime: they may use runtime/ files, never the reverse (checked above).
    ['http adapter', 'runtime/http/index.ts', /^runtime\/(?!extension\/|events\/)/, 22 * KB],
    ['extension library', 'runtime/extension/index.ts', /^runtime\/(?!http\/|events\/)/, 28 * KB],
  ] as const) {
    it(`${name}: only runtime/ files, only node:* imports, at most ${budget / KB} KB`, async () => {
      const { inputs, externals, bytes } = await bundleOf(entry);
      const outsiders = inputs.filter((input) => !mayContain.test(input));
      expect(outsiders, `files that may not be in the ${name} bundle: ${outsiders.join(', ')}`).toEqual([]);
      const nonBuiltins = externals.filter((path) => !path.startsWith('node:'));
      expect(nonBuiltins, `the ${name} imports non-built-in modules: ${nonBuiltins.join(', ')}`).toEqual([]);
      expect(inputs.some((input) => input.includes('zod'))).toBe(false);
      console.log(`${name} bundle: ${bytes} bytes minified, ${inputs.length} files, imports ${[...new Set(externals)].join(' ')}`);
      expect(bytes, `the ${name} bundle is ${bytes} bytes, over its budget of ${budget}`).toBeLessThanOrEqual(budget);
      expect(bytes).toBeGreaterThan(budget / 2);
    });
  }
});
