/**
 * Errors of `lambda-kit build`: a stable `code` for programs, its kind, and a
 * message that says what was wrong and what to do.
 */
import { LambdaKitError, type ErrorTable } from '../platform/errors.ts';

export const BUILD_ERRORS = {
  LK_KIT_CONFIG: {
    kind: 'input',
    meaning: 'The build config cannot be read, or a key in it is unknown or wrong (the message names the key and the file).',
  },
  LK_KIT_BAD_OPTION: {
    kind: 'input',
    meaning: 'An option or flag has a value the build does not take, or goes with nothing it applies to.',
  },
  LK_KIT_NO_FUNCTIONS: {
    kind: 'input',
    meaning: 'There is nothing to build: no entry was given and the config lists no functions or extensions.',
  },
  LK_KIT_ENTRY_NOT_FOUND: {
    kind: 'input',
    meaning: "An entry file does not exist, or the name given is neither a file nor a function's or extension's name.",
  },
  LK_KIT_UNKNOWN_FORMAT: { kind: 'input', meaning: 'The format asked for is not one the build knows.' },
  LK_KIT_SNAPSHOT_OPTIONS: {
    kind: 'input',
    meaning: '--snapshot is asked for with what it does not go with: the thin layout, --code-cache or --docker.',
  },
  LK_KIT_NO_BUILDER: { kind: 'input', meaning: '--docker: the builder image is not in the local Docker engine.' },
  LK_KIT_EXTERNAL_NOT_FOUND: { kind: 'input', meaning: 'A package given with --external, or one of its dependencies, is not installed.' },
  LK_KIT_NATIVE_ADDON: {
    // A failure, not bad input: the same project builds with --docker, where the addon is built for the target.
    kind: 'failure',
    meaning: 'A package holds a native addon that a bundle cannot hold, or that has no binary for the target.',
  },
  LK_KIT_INVALID_OPTIONS: {
    kind: 'input',
    meaning: 'The options given to a Node runtime builder (arch, root, Node version, library path) cannot be built.',
  },
  LK_KIT_BUNDLE: { kind: 'failure', meaning: 'esbuild could not bundle the function or extension (the message has its errors).' },
  LK_KIT_RUNTIME_NOT_FOUND: { kind: 'failure', meaning: "The lambda-kit runtime's sources are not where the installed kit expects them." },
  LK_KIT_NODE_UNAVAILABLE: {
    kind: 'failure',
    meaning: 'Node for the target (npm package node-linux-<cpu>) cannot be found or downloaded.',
  },
  LK_KIT_GLIBC_UNAVAILABLE: {
    kind: 'failure',
    meaning: "Debian's glibc, libstdc++ or libgcc packages for the target cannot be found or downloaded.",
  },
  LK_KIT_TOOL_MISSING: {
    kind: 'failure',
    meaning: 'A tool the build needs (strip, patchelf, dpkg-deb, apt-get) is missing and cannot be installed.',
  },
  LK_KIT_SEA_FAILED: { kind: 'failure', meaning: 'Making or checking the single executable application (SEA) bootstrap failed.' },
  LK_KIT_CODE_CACHE: { kind: 'failure', meaning: '--code-cache: loading the function at build time to make its code cache failed.' },
  LK_KIT_SNAPSHOT: {
    kind: 'failure',
    meaning: '--snapshot: a package the function imports cannot be evaluated into a V8 startup snapshot, or the snapshot cannot be made.',
  },
  LK_KIT_ZIP: { kind: 'failure', meaning: 'The files cannot go into a zip (a bad path, two files at one path, or more than a zip holds).' },
  LK_KIT_WRITE: { kind: 'failure', meaning: 'An artifact cannot be written to the output directory.' },
  LK_KIT_NO_DOCKER: { kind: 'failure', meaning: 'No Docker engine answers (--format image, --docker).' },
  LK_KIT_IMAGE_BUILD: { kind: 'failure', meaning: '`docker build` of a function image failed.' },
  LK_KIT_IMAGE_PLATFORM: { kind: 'failure', meaning: 'A built image is not of the platform asked for (the base image is for another).' },
  LK_KIT_DOCKER_BUILD: { kind: 'failure', meaning: '--docker: the build inside the builder image failed.' },
} as const satisfies ErrorTable;

export type BuildErrorCode = keyof typeof BUILD_ERRORS;

export class KitError extends LambdaKitError {
  declare readonly code: BuildErrorCode;

  constructor(code: BuildErrorCode, message: string, options?: ErrorOptions) {
    super(code, BUILD_ERRORS[code], message, options);
    this.name = 'KitError';
  }
}
