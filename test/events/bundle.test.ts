import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

// Same esbuild settings as test/runtime/bundle.test.ts; the package's own name resolves to the
// sources through the lambda-kit-source condition, as the build kit resolves it.
async function bundle(entry: { file: string } | { contents: string }) {
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: process.cwd(), sourcefile: 'handler.ts', loader: 'ts' as const } }),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    metafile: true,
    conditions: ['lambda-kit-source'],
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const output: Metafile['outputs'][string] = Object.values(result.metafile.outputs)[0]!;
  const externals = output.imports.filter((entry) => entry.external).map((entry) => entry.path);
  return { inputs, externals, bytes: output.bytes };
}

const SCHEMAS = 'runtime/events/schemas/';

describe('events bundle', () => {
  it('lambda-kit/events holds only runtime/ files, no schema and no zod, and imports only node:* built-ins', async () => {
    const { inputs, externals, bytes } = await bundle({ file: 'runtime/events/index.ts' });
    const outsiders = inputs.filter((input) => !input.startsWith('runtime/'));
    expect(outsiders, `files from outside runtime/ got into the bundle: ${outsiders.join(', ')}`).toEqual([]);
    expect(inputs.filter((input) => input.startsWith(SCHEMAS))).toEqual([]);
    expect(externals.filter((path) => !path.startsWith('node:'))).toEqual([]);
    console.log(`lambda-kit/events bundle: ${bytes} bytes minified, ${inputs.length} files`);
  });

  it('a handler that imports lambda-kit/events/sqs gets zod and the SQS schema, and no other schema', async () => {
    const { inputs, externals, bytes } = await bundle({
      contents: [
        "import { parse, processBatch } from 'lambda-kit/events';",
        "import { SqsEventSchema } from 'lambda-kit/events/sqs';",
        'export const handler = parse(SqsEventSchema, (event) => processBatch(event, () => {}));',
      ].join('\n'),
    });
    expect(inputs.filter((input) => input.startsWith(SCHEMAS))).toEqual([`${SCHEMAS}sqs.ts`]);
    expect(inputs.some((input) => input.startsWith('node_modules/zod/'))).toBe(true);
    expect(inputs).toContain('runtime/events/index.ts');
    const others = inputs.filter((input) => !input.startsWith('runtime/') && !input.startsWith('node_modules/zod/') && input !== 'handler.ts');
    expect(others).toEqual([]);
    expect(externals.filter((path) => !path.startsWith('node:'))).toEqual([]);
    // `import * as z from 'zod'` lets esbuild shake zod (about 90 KB with the schema); `import { z }`
    // brings all of it, locales and JSON Schema included (about 450 KB).
    expect(bytes).toBeLessThan(150_000);
    console.log(`parse + SQS schema bundle: ${bytes} bytes minified, ${inputs.length} files`);
  });

  it('a function URL handler gets the HTTP API schema it builds on, and not the REST one', async () => {
    const { inputs } = await bundle({
      contents: "import { FunctionUrlEventSchema } from 'lambda-kit/events/function-url'; export const schema = FunctionUrlEventSchema;",
    });
    expect(inputs.filter((input) => input.startsWith(SCHEMAS)).sort()).toEqual([`${SCHEMAS}api-gateway-v2.ts`, `${SCHEMAS}function-url.ts`]);
  });
});
