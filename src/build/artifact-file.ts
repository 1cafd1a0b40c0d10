/** One file of an artifact (a zip entry, a file of an image's /var/task, a layer's file). */
export interface ArtifactFile {
  /** Path inside the artifact, with forward slashes. */
  path: string;
  data: Buffer;
  /** Unix permission bits: 0o755 for executables, 0o644 otherwise. */
  mode: number;
  /** SHA-256 of data (hex), where its maker already knows it: a zip then need not hash all of Node again. */
  sha256?: string;
}
