'use strict';
// The main script of a function's `bootstrap`: a Node single executable
// application (SEA) made by src/kit/node-runtime.ts, which embeds this file as
// it is. It runs before any user code on every cold start: keep it tiny.
//
// - AWS_LAMBDA_RUNTIME_API set (under Lambda, or an emulator): imports
//   $LAMBDA_TASK_ROOT/index.mjs (the bundle of the runtime loop and the
//   handler, which starts the loop itself).
// - unset (e.g. a plain `docker run` of an image): imports
//   <dir of bootstrap>/.lambda-kit/local-emulator.mjs when it is there, the way
//   AWS's base images start their emulator; otherwise says what this is and exits 1.
// Source maps are not turned on here: index.mjs maps its own stack traces, when one is first formatted
// (runtime/loop/source-maps.ts), where Node's support would read the map and scan the bundle on every start.
const { join, dirname } = require('node:path');
const { pathToFileURL } = require('node:url');

function start(file) {
  import(pathToFileURL(file).href).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

if (process.env.AWS_LAMBDA_RUNTIME_API) {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || '/var/task';
  // Built with --code-cache: V8's code for index.mjs, made at build time, so it is not compiled again.
  // Portable: keyed by paths relative to the cache, which moves with the task root.
  const codeCache = join(taskRoot, '.lambda-kit', 'compile-cache');
  if (require('node:fs').existsSync(codeCache)) require('node:module').enableCompileCache({ directory: codeCache, portable: true });
  start(join(taskRoot, 'index.mjs'));
} else {
  const emulator = join(dirname(process.execPath), '.lambda-kit', 'local-emulator.mjs');
  if (require('node:fs').existsSync(emulator)) {
    start(emulator);
  } else {
    process.stderr.write(
      'AWS_LAMBDA_RUNTIME_API is not set: this is a Lambda bootstrap; run it under Lambda or `lambda-kit emulate`\n',
    );
    process.exitCode = 1;
  }
}
