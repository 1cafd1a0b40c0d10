import { existsSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LaunchError } from '../errors.ts';
import { ProcessLauncher } from './process-launcher.ts';

/** The runtime entry, as source (running from a checkout) or compiled (installed package). */
function runtimeEntry(): string {
  const ownExtension = extname(new URL(import.meta.url).pathname);
  return new URL(`../../../runtime/index${ownExtension === '.ts' ? '.ts' : '.js'}`, import.meta.url).href;
}

/**
 * Serves a handler file (.ts, .js, .mjs) without building it first: the
 * lambda-kit runtime loop imports it in a Node process (Node >= 22.18 runs
 * TypeScript by stripping types), so module errors become init errors.
 */
export function handlerFileLauncher(handlerFile: string, exportName: string): ProcessLauncher {
  const file = resolve(handlerFile);
  if (!existsSync(file)) {
    throw new LaunchError(`handler file ${handlerFile} does not exist: pass the path of a .ts or .js file that exports "${exportName}"`);
  }
  const moduleName = basename(file, extname(file));
  const bootstrap =
    `import { runModule } from ${JSON.stringify(runtimeEntry())};\n` +
    `await runModule(() => import(${JSON.stringify(pathToFileURL(file).href)}), ${JSON.stringify(exportName)}, ${JSON.stringify(moduleName)});\n`;
  return new ProcessLauncher({
    command: [process.execPath, '--enable-source-maps', '--input-type=module', '-e', bootstrap],
    taskRoot: dirname(file),
    description: `${handlerFile} (export ${exportName})`,
  });
}
