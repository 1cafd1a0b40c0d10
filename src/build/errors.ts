/**
 * Errors of the build kit: a stable `code` for programs, and a message that
 * says what was wrong and what to do.
 */
export class KitError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KitError';
    this.code = code;
  }
}

/** Stable codes of the errors the kit throws. */
export const KitErrorCode = {
  /** Node for the target (npm package node-linux-<cpu>) cannot be found or downloaded. */
  NODE_UNAVAILABLE: 'LK_KIT_NODE_UNAVAILABLE',
  /** Debian's glibc / libstdc++ / libgcc packages for the target cannot be found or downloaded. */
  GLIBC_UNAVAILABLE: 'LK_KIT_GLIBC_UNAVAILABLE',
  /** A tool the build needs (strip, patchelf, dpkg-deb, apt-get) is missing and cannot be installed. */
  TOOL_MISSING: 'LK_KIT_TOOL_MISSING',
  /** Making or checking the single executable application (SEA) `bootstrap` failed. */
  SEA_FAILED: 'LK_KIT_SEA_FAILED',
  /** The options given cannot be built. */
  INVALID_OPTIONS: 'LK_KIT_INVALID_OPTIONS',
  /** No Docker engine answers (image builds). */
  NO_DOCKER: 'LK_KIT_NO_DOCKER',
  /** `docker build` of an image failed. */
  IMAGE_BUILD: 'LK_KIT_IMAGE_BUILD',
  /** A built image is not of the platform asked for. */
  IMAGE_PLATFORM: 'LK_KIT_IMAGE_PLATFORM',
  /** --code-cache: loading the function at build time to make its code cache failed. */
  CODE_CACHE: 'LK_KIT_CODE_CACHE',
  /** --snapshot: a package the function imports cannot be evaluated into a V8 startup snapshot, or the snapshot cannot be made. */
  SNAPSHOT: 'LK_KIT_SNAPSHOT',
  /** --snapshot with what it does not go with: the thin layout (whose bootstrap is the shared /opt layer), --code-cache, --docker. */
  SNAPSHOT_OPTIONS: 'LK_KIT_SNAPSHOT_OPTIONS',
} as const;
export type KitErrorCode = (typeof KitErrorCode)[keyof typeof KitErrorCode];
