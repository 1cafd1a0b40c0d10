/**
 * The shape of a build config: functions and extensions and their settings.
 * Strict schemas: an unknown key is an error (load.ts names the key and the
 * file it came from).
 */
import { z } from 'zod';
import { ARCHES } from '../../platform/arch.ts';
import { FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE } from '../../platform/function-name.ts';
import { LAYOUTS, TARGETS } from './choices.ts';

/**
 * An extension's name is its file name in /opt/extensions, which its
 * Lambda-Extension-Name must match when it registers.
 */
const EXTENSION_NAME = /^[a-zA-Z0-9_-]+$/;
const EXTENSION_NAME_RULE =
  'an extension name is letters, digits, - or _ (its file name in /opt/extensions, which Lambda-Extension-Name must match)';

/** Settings a function may have, and the project may give as defaults for all its functions. */
const settingsShape = {
  arch: z.enum(ARCHES).optional(),
  target: z.enum(TARGETS).optional(),
  /** Checked against the formats the build knows (see build.ts), so that new formats need no schema change. */
  format: z.string().min(1).optional(),
  layout: z.enum(LAYOUTS).optional(),
  external: z.array(z.string().min(1)).optional(),
  nodeMajor: z.union([z.literal(24), z.literal(22)]).optional(),
  sourcemap: z.boolean().optional(),
  sourcesContent: z.boolean().optional(),
  minify: z.boolean().optional(),
  /**
   * Ship a V8 code cache of the bundle, made at build time by loading the
   * function once (its init runs on the build machine): faster cold starts.
   */
  codeCache: z.boolean().optional(),
  /**
   * Evaluate the packages the function imports from node_modules at build
   * time and ship them as a V8 startup snapshot inside the function's own
   * bootstrap: they are not evaluated again on a cold start.
   */
  snapshot: z.boolean().optional(),
  /** --format image: the base image (default: AWS's provided image for the target). */
  baseImage: z.string().min(1).optional(),
  /** --format image: the tag (default lambda-kit/<name>:<arch>); at the top level, only with the single-function shorthand. */
  imageTag: z.string().min(1).optional(),
};

export const functionConfigSchema = z.strictObject({
  entry: z.string().min(1),
  /** The exported handler (default "handler"); a dotted path reaches into objects. */
  export: z.string().min(1).optional(),
  ...settingsShape,
});

/** An external extension, built into a layer zip (extensions/<name> and the Node it runs on). */
export const extensionConfigSchema = z.strictObject({
  entry: z.string().min(1),
  arch: settingsShape.arch,
  nodeMajor: settingsShape.nodeMajor,
  sourcemap: settingsShape.sourcemap,
  sourcesContent: settingsShape.sourcesContent,
  minify: settingsShape.minify,
});

export const projectConfigSchema = z
  .strictObject({
    functions: z.record(z.string().regex(FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE), functionConfigSchema).optional(),
    extensions: z.record(z.string().regex(EXTENSION_NAME, EXTENSION_NAME_RULE), extensionConfigSchema).optional(),
    /** Single-function shorthand: `{ "entry": "src/handler.ts" }`. */
    entry: z.string().min(1).optional(),
    export: z.string().min(1).optional(),
    name: z.string().regex(FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE).optional(),
    out: z.string().min(1).optional(),
    ...settingsShape,
  })
  .refine((config) => !(config.functions && (config.entry || config.name || config.export)), {
    message: 'give either "functions" or the single-function shorthand ("entry", "name", "export"), not both',
  })
  // A default tag for several functions would name all their images alike: at the top level it is the shorthand's own.
  .refine((config) => config.imageTag === undefined || config.entry !== undefined, {
    path: ['imageTag'],
    message:
      'at the top level it is the tag of the single-function shorthand ("entry"); give each function its own (functions.<name>.imageTag)',
  });

export type FunctionConfig = z.infer<typeof functionConfigSchema>;
export type ExtensionConfig = z.infer<typeof extensionConfigSchema>;
export type ProjectConfig = z.infer<typeof projectConfigSchema>;
