/**
 * A `bootstrap` as a Node single executable application (SEA): the blob
 * (made by the target's own Node from a sea-config) injected into the Node
 * binary with postject, then patchelf (in that order: postject after patchelf
 * gives a binary the loader cannot load), then a check run.
 */
import { createRequire } from 'node:module';
import type { Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { patchelf } from './elf.ts';
import { runTarget } from './target-run.ts';
import { tool } from './tools.ts';

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** What a bootstrap's launcher says when it is run outside Lambda, with nothing to serve: the check run expects it. */
const NOT_UNDER_LAMBDA = 'AWS_LAMBDA_RUNTIME_API is not set';

/** The sea-config.json that makes sea.blob from `main`: with a V8 startup snapshot (--snapshot) or without. */
export function seaConfig(main: string, useSnapshot: boolean): string {
  return JSON.stringify({
    main,
    output: 'sea.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot,
    useCodeCache: false,
  });
}

/**
 * postject, then patchelf (interpreter `interpreter`, DT_RPATH $ORIGIN/lib),
 * then the check: the loader runs it, it finds its blob, and its launcher
 * answers.
 */
export async function injectBlob(options: {
  arch: Arch;
  nodeVersion: string;
  /** The loader's path where the bootstrap runs: <root>/lib/ld-linux-*. */
  interpreter: string;
  libDir: string;
  work: string;
  bootstrap: string;
  blob: string;
}): Promise<void> {
  const { arch, nodeVersion, bootstrap } = options;
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  await tool(process.execPath, [postject, bootstrap, 'NODE_SEA_BLOB', options.blob, '--sentinel-fuse', SEA_FUSE], {
    code: 'LK_KIT_SEA_FAILED',
    what: 'postject (injecting the SEA blob into bootstrap)',
  });
  await patchelf(bootstrap, options.interpreter, '$ORIGIN/lib');
  const check = await runTarget(arch, options.libDir, [bootstrap], options.work, 'checking bootstrap', true);
  if (check.code !== 1 || !check.stderr.includes(NOT_UNDER_LAMBDA)) {
    throw new KitError(
      'LK_KIT_SEA_FAILED',
      `the built bootstrap (Node ${nodeVersion}, ${arch}) did not start its launcher (exit ${check.code}): ${check.stderr.trim() || check.stdout.trim()}`,
    );
  }
}
