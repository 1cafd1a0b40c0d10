import { createWriteStream } from 'node:fs';
import { build } from 'esbuild';
import yazl from 'yazl';

/**
 * A deployment package of a test function (which starts the runtime loop
 * itself): the bundle as index.mjs and a `bootstrap` that runs it with this
 * Node, from wherever LAMBDA_TASK_ROOT says the package is.
 */
export async function zipTestFunction(entry: string, zipPath: string): Promise<void> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'silent',
  });
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(`#!/bin/sh\nexec "${process.execPath}" "$LAMBDA_TASK_ROOT/index.mjs"\n`), 'bootstrap', { mode: 0o100755 });
  zip.addBuffer(Buffer.from(bundle.outputFiles[0]!.text), 'index.mjs', { mode: 0o100644 });
  zip.end();
  await new Promise<void>((resolve, reject) =>
    zip.outputStream
      .pipe(createWriteStream(zipPath))
      .on('close', () => resolve())
      .on('error', reject),
  );
}
