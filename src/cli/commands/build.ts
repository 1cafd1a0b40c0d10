import { parseArgs } from 'node:util';
import { buildProject, defaultCacheDir } from '../../build/build.ts';
import { buildInDocker } from '../../build/artifacts/docker-build.ts';
import { LAYOUTS, NODE_MAJORS, TARGETS, parseArch, parseLayout, parseNodeMajor, parseTarget } from '../../build/project/choices.ts';
import { DEFAULT_OUT, resolveProject } from '../../build/project/resolve.ts';
import { KitError } from '../../build/errors.ts';
import { formats } from '../../build/artifacts/formats.ts';
import { UsageError } from '../errors.ts';

const BUILD_USAGE = `lambda-kit build [entry|name] [options]

Builds functions into deployable artifacts: the handler and the lambda-kit
runtime loop bundled into one index.mjs (+ index.mjs.map), with a Node
runtime (bootstrap + lib/) for Lambda's custom runtime (provided.al2023,
provided.al2). Builds the config's "extensions" (external Lambda extensions)
into layer zips: extensions/<name> and the Node it runs on. With no argument,
builds every function and extension of the config (lambda-kit.config.json,
lambda-kit.config.mjs or "lambda" in package.json); with a name, that one;
with a file, that file as a function (or as the extension whose entry it is).

Writes <out>/<name>.zip, and <out>/<name>-runtime-<arch>.zip with --layout thin;
<out>/layers/<name>.zip for an extension. Progress goes to stderr.

Options:
  --arch <arch>         x86_64 or arm64 (default: this machine's); functions and extensions
  --target <target>     ${TARGETS.join(', ')} (default al2023): the image base, recorded; a zip runs on all
  --format <format>     ${Object.keys(formats).join(', ')} (default zip)
  --layout <layout>     ${LAYOUTS.join(' or ')} (default self-contained): thin is the code
                        alone, with the Node runtime as a separate layer zip (/opt)
  --external <package>  leave a package out of the bundle and ship it, with its
                        dependencies, in node_modules/ (repeatable)
  --node <major>        ${NODE_MAJORS.join(' or ')} (default 24); functions and extensions
  --out <dir>           output directory (default ${DEFAULT_OUT}, next to the config)
  --base-image <image>  --format image: the base (default: AWS's public.ecr.aws/lambda/provided:<target>)
  --tag <tag>           --format image: the image tag (default lambda-kit/<name>:<arch>)
  --code-cache          ship a V8 code cache of the bundle, made by loading the function once at build time
  --snapshot            evaluate the packages the function imports (node_modules) at build time, into a
                        V8 startup snapshot inside its own bootstrap; not with --layout thin or --code-cache
  --docker              build inside the builder image for the target (Dockerfile.al2 / .al1):
                        for native addons, or a machine without the tools; same output
  --builder <image>     with --docker: the builder image (default lambda-kit/builder:<al2|al1>[-arm64])
  --config <file>       the config file (default: found in the working directory)
  --json                print the result as JSON on stdout:
                        { "artifacts": [{ function, kind, path, sha256, size, arch, target, format, layout, nodeVersion },
                                        { extension, kind: "extension-layer", path, sha256, size, arch, format, nodeVersion }] }
  Only functions have --target, --format, --layout, --external, --base-image and --tag.
  -h, --help            show this help`;

/** The build's arguments for the builder: the same, less what only the host acts on. */
function withoutDockerFlags(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--docker') continue;
    if (arg === '--builder') {
      i++;
      continue;
    }
    if (arg.startsWith('--builder=')) continue;
    kept.push(arg);
  }
  return kept;
}

/** "2 function(s)", "1 extension layer(s)", "2 function(s) and 1 extension layer(s)" */
function counted(project: { functions: unknown[]; extensions: unknown[] }): string {
  const parts: string[] = [];
  if (project.functions.length > 0 || project.extensions.length === 0) parts.push(`${project.functions.length} function(s)`);
  if (project.extensions.length > 0) parts.push(`${project.extensions.length} extension layer(s)`);
  return parts.join(' and ');
}

export async function buildCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      arch: { type: 'string' },
      target: { type: 'string' },
      format: { type: 'string' },
      layout: { type: 'string' },
      external: { type: 'string', multiple: true },
      node: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      'base-image': { type: 'string' },
      tag: { type: 'string' },
      'code-cache': { type: 'boolean' },
      snapshot: { type: 'boolean' },
      docker: { type: 'boolean' },
      builder: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BUILD_USAGE);
    return 0;
  }
  const [selector, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`build takes one entry or function name, got: ${positionals.join(' ')}`);
  // Flags are checked before anything is read, with the flag's name in the message.
  if (values.arch !== undefined) parseArch(values.arch);
  if (values.target !== undefined) parseTarget(values.target);
  if (values.layout !== undefined) parseLayout(values.layout);
  if (values.node !== undefined) parseNodeMajor(values.node);
  if (values.format !== undefined && !Object.hasOwn(formats, values.format)) {
    throw new KitError(
      'LK_KIT_UNKNOWN_FORMAT',
      `unknown format "${values.format}" (--format): this lambda-kit builds ${Object.keys(formats).join(', ')}`,
    );
  }
  const started = Date.now();
  const overrides = {
    ...(values.arch !== undefined && { arch: values.arch }),
    ...(values.target !== undefined && { target: values.target }),
    ...(values.format !== undefined && { format: values.format }),
    ...(values.layout !== undefined && { layout: values.layout }),
    ...(values.external !== undefined && { external: values.external }),
    ...(values.node !== undefined && { nodeMajor: values.node }),
    ...(values.out !== undefined && { out: values.out }),
    ...(values['base-image'] !== undefined && { baseImage: values['base-image'] }),
    ...(values.tag !== undefined && { imageTag: values.tag }),
    ...(values['code-cache'] !== undefined && { codeCache: values['code-cache'] }),
    ...(values.snapshot !== undefined && { snapshot: values.snapshot }),
  };
  const log = (line: string) => process.stderr.write(`lambda-kit: ${line}\n`);
  if (values.docker) {
    const project = await resolveProject({
      cwd: process.cwd(),
      ...(selector !== undefined && { selector }),
      ...(values.config !== undefined && { configFile: values.config }),
      overrides,
    });
    const output = await buildInDocker({
      args: withoutDockerFlags(args),
      cwd: process.cwd(),
      project,
      cacheDir: defaultCacheDir(),
      ...(values.builder !== undefined && { builder: values.builder }),
      log,
    });
    process.stdout.write(output);
    log(`built ${counted(project)} in the builder in ${Date.now() - started} ms`);
    return 0;
  }
  const result = await buildProject({
    ...(selector !== undefined && { selector }),
    ...(values.config !== undefined && { configFile: values.config }),
    overrides,
    log,
  });
  log(`built ${counted(result.project)} in ${Date.now() - started} ms`);
  if (values.json) process.stdout.write(`${JSON.stringify({ artifacts: result.artifacts }, null, 2)}\n`);
  return 0;
}
