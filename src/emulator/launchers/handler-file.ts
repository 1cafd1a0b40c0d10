import { existsSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LaunchError } from '../errors.ts';
import { ProcessLauncher } from './process-launcher.ts';
import { taskVariables, withInherited, type InheritEnvironment } from './task-environment.ts';

/** The runtime entry, as source (running from a checkout) or compiled (installed package). */
function runtimeEntry(): string {
  const ownExtension = extname(new URL(import.meta.url).pathname);
  return new URL(`../../../runtime/index${ownExtension === '.ts' ? '.ts' : '.js'}`, import.meta.url).href;
}

/**
 * Serves a handler file (.ts, .js, .mjs) without building it first: the
 * lambda-kit runtime loop imports it in a Node process (Node >= 22.18 runs
 * TypeScript by stripping types), so module errors become init errors.
 *
 * It gets the variables a zip gets, but for where things are: the handler
 * imports its neighbours and node_modules by relative path, and the runtime
 * loop is the lambda-kit package on disk, so neither can move to /var/task.
 * LAMBDA_TASK_ROOT (and the working directory) is the handler's folder,
 * LAMBDA_RUNTIME_DIR the runtime loop's, and LD_LIBRARY_PATH is Lambda's
 * with those two in place of /var/task and /var/runtime.
 */
export function handlerFileLauncher(
  handlerFile: string,
  exportName: string,
  options: { extensionsDir?: string; inheritEnvironment?: InheritEnvironment } = {},
): ProcessLauncher {
  const file = resolve(handlerFile);
  if (!existsSync(file)) {
    throw new LaunchError(`handler file ${handlerFile} does not exist: pass the path of a .ts or .js file that exports "${exportName}"`);
  }
  const moduleName = basename(file, extname(file));
  const entry = runtimeEntry();
  const bootstrap =
    `import { runModule } from ${JSON.stringify(entry)};\n` +
    `await runModule(() => import(${JSON.stringify(pathToFileURL(file).href)}), ${JSON.stringify(exportName)}, ${JSON.stringify(moduleName)});\n`;
  return new ProcessLauncher({
    command: [process.execPath, '--enable-source-maps', '--input-type=module', '-e', bootstrap],
    taskRoot: dirname(file),
    variables: withInherited(taskVariables(dirname(file), dirname(fileURLToPath(entry))), options.inheritEnvironment),
    description: `${handlerFile} (export ${exportName})`,
    ...(options.extensionsDir !== undefined && { extensionsDir: options.extensionsDir }),
  });
}
