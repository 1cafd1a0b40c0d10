import { describe, expect, it } from 'vitest';
import { bundleOf } from '../../support/bundle.ts';

const SCHEMAS = 'runtime/events/schemas/';

describe('events bundle', () => {
  it('lambda-kit/events holds only runtime/ files, no schema and no zod, and imports only node:* built-ins', async () => {
    const { inputs, externals, bytes } = await bundleOf('runtime/events/index.ts');
    const outsiders = inputs.filter((input) => !input.startsWith('runtime/'));
    expect(outsiders, `files from outside runtime/ got into the bundle: ${outsiders.join(', ')}`).toEqual([]);
    expect(inputs.filter((input) => input.startsWith(SCHEMAS))).toEqual([]);
    expect(externals.filter((path) => !path.startsWith('node:'))).toEqual([]);
    console.log(`lambda-kit/events bundle: ${bytes} bytes minified, ${inputs.length} files`);
  });

  it('a handler that imports lambda-kit/events/sqs gets zod and the SQS schema, and no other schema', async () => {
    const { inputs, externals, bytes } = await bundleOf({
      contents: [
        "import { parse, processBatch } from 'lambda-kit/events';",
        "import { SqsEventSchema } from 'lambda-kit/events/sqs';",
        'export const handler = parse(SqsEventSchema, (event) => processBatch(event, () => {}));',
      ].join('\n'),
    });
    expect(inputs.filter((input) => input.startsWith(SCHEMAS))).toEqual([`${SCHEMAS}sqs.ts`]);
    expect(inputs.some((input) => input.startsWith('node_modules/zod/'))).toBe(true);
    expect(inputs).toContain('runtime/events/index.ts');
    const others = inputs.filter(
      (input) => !input.startsWith('runtime/') && !input.startsWith('node_modules/zod/') && input !== 'handler.ts',
    );
    expect(others).toEqual([]);
    expect(externals.filter((path) => !path.startsWith('node:'))).toEqual([]);
    // `import * as z from 'zod'` lets esbuild shake zod (about 150 KB with the schema, minified as the kit does, names
    // kept); `import { z }` brings all of it, locales and JSON Schema included (about 600 KB).
    expect(bytes).toBeLessThan(200_000);
    console.log(`parse + SQS schema bundle: ${bytes} bytes minified, ${inputs.length} files`);
  });

  it('a function URL handler gets the HTTP API schema it builds on, and not the REST one', async () => {
    const { inputs } = await bundleOf({
      contents: "import { FunctionUrlEventSchema } from 'lambda-kit/events/function-url'; export const schema = FunctionUrlEventSchema;",
    });
    expect(inputs.filter((input) => input.startsWith(SCHEMAS)).sort()).toEqual([
      `${SCHEMAS}api-gateway-v2.ts`,
      `${SCHEMAS}function-url.ts`,
    ]);
  });
});
