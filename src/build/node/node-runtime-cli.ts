/**
 * The Node runtime of the kit from a shell (docker/builder/prepare-context.sh
 * uses it; also handy to look at a bootstrap by hand):
 *
 *   node src/build/node/node-runtime-cli.ts bootstrap --arch x86_64|arm64 --root /var/task|/opt
 *       [--node-major 24|22 | --node-version X.Y.Z] --cache DIR --out DIR
 *     writes DIR/bootstrap and DIR/lib/* (buildNodeRuntime)
 *
 *   node src/build/node/node-runtime-cli.ts node-with-glibc --arch x86_64|arm64 --node-version X.Y.Z
 *       --lib-path /opt/lambda-kit/lib [--extra-lib libnss_dns.so.2 ...] --cache DIR --out DIR
 *     writes DIR/bin/node (plain Node, interpreter and DT_RPATH in --lib-path) and DIR/lib/*
 *
 * --arch also takes Docker's names (amd64). Exits 1 with the error's code and message.
 */
import { parseArgs } from 'node:util';
import { KitError } from '../errors.ts';
import { archFromAlias } from '../../platform/arch.ts';
import { buildNodeRuntime, writeNodeRuntime, type NodeRuntimeRoot } from './node-runtime.ts';
import { writeNodeWithGlibc } from './node-with-glibc.ts';

function usage(message: string): never {
  process.stderr.write(`node-runtime-cli: ${message} (see the top of src/build/node/node-runtime-cli.ts)\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      arch: { type: 'string' },
      root: { type: 'string', default: '/var/task' },
      'node-major': { type: 'string' },
      'node-version': { type: 'string' },
      'lib-path': { type: 'string' },
      'extra-lib': { type: 'string', multiple: true },
      cache: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const arch = archFromAlias(values.arch ?? '') ?? usage(`--arch x86_64|arm64 is required (got '${values.arch ?? ''}')`);
  const cacheDir = values.cache ?? usage('--cache DIR is required');
  const out = values.out ?? usage('--out DIR is required');
  const log = (message: string) => process.stderr.write(`node-runtime(${arch}): ${message}\n`);

  switch (command) {
    case 'bootstrap': {
      const nodeMajor = values['node-major'] === undefined ? undefined : Number(values['node-major']);
      if (nodeMajor !== undefined && nodeMajor !== 24 && nodeMajor !== 22) usage('--node-major is 24 or 22');
      const runtime = await buildNodeRuntime({
        arch,
        root: values.root as NodeRuntimeRoot,
        cacheDir,
        log,
        ...(nodeMajor !== undefined ? { nodeMajor } : {}),
        ...(values['node-version'] ? { nodeVersion: values['node-version'] } : {}),
      });
      await writeNodeRuntime(runtime, out);
      log(`Node ${runtime.nodeVersion}: ${runtime.files.map((f) => `${f.path} ${f.data.length}`).join(', ')}`);
      return;
    }
    case 'node-with-glibc': {
      const nodeVersion = values['node-version'] ?? usage('--node-version X.Y.Z is required');
      const libPath = values['lib-path'] ?? usage('--lib-path DIR is required');
      await writeNodeWithGlibc({ arch, nodeVersion, cacheDir, libPath, extraLibs: values['extra-lib'] ?? [], log }, out);
      return;
    }
    default:
      usage(`unknown command '${command ?? ''}': bootstrap or node-with-glibc`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = error instanceof KitError ? `${error.code}: ` : '';
  process.stderr.write(`node-runtime-cli: ${code}${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
