import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// How the kit's bundles map their frames (and that they match Node's own
// mapping) is tested on real bundles in test/build/bundle/bundle.test.ts; here, when
// mapStackTraces stays out of the way. Each case runs in a Node of its own:
// Error.prepareStackTrace is global.
const sourceMapsModule = fileURLToPath(new URL('../../../runtime/loop/source-maps.ts', import.meta.url));

function probe(nodeFlags: string[], before: string): { same: boolean; name: string } {
  const script = [
    `import { mapStackTraces } from ${JSON.stringify(sourceMapsModule)};`,
    before,
    'const ours = Error.prepareStackTrace;',
    "mapStackTraces('file:///var/task/index.mjs');",
    'console.log(JSON.stringify({ same: Error.prepareStackTrace === ours, name: Error.prepareStackTrace?.name ?? null }));',
  ].join('\n');
  const output = execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(output);
}

describe('mapStackTraces', () => {
  it("wraps Node's own Error.prepareStackTrace", () => {
    expect(probe([], '')).toEqual({ same: false, name: 'prepareStackTrace' });
  });

  it('leaves stacks to Node when its own source maps are on', () => {
    expect(probe(['--enable-source-maps'], '')).toEqual({ same: true, name: 'ErrorPrepareStackTrace' });
  });

  it('leaves a prepareStackTrace installed by someone else alone', () => {
    expect(probe([], 'Error.prepareStackTrace = function custom(error) { return String(error); };')).toEqual({
      same: true,
      name: 'custom',
    });
  });
});
