#!/usr/bin/env bash
# Assembles the build context of the builder images (Dockerfile.al2, Dockerfile.al1)
# for one architecture, without pulling anything:
#
#   docker/builder/prepare-context.sh ARCH OUTDIR     ARCH is amd64 or arm64
#
# OUTDIR ends up holding the two Dockerfiles and opt/lambda-kit/:
#   bin/node   Node (npm package node-linux-<arch>) with its ELF interpreter
#              patched to lib/ld-linux-* and DT_RPATH lib/, so it runs on any
#              base whatever its glibc (AL1: 2.17, AL2: 2.26; Node 24 needs 2.28)
#   lib/       that loader + glibc, libgcc_s, libstdc++ from Debian packages
#   kit/       the compiled kit (dist/, bin/, package.json) and its production
#              node_modules for ARCH (e.g. @esbuild/linux-arm64, not -x64)
#
# bin/ and lib/ come from the kit's own Node runtime module (src/build/node/node-runtime.ts,
# through src/build/node/node-runtime-cli.ts), which also makes functions' bootstraps.
# Downloads are cached under .cache/ (Debian packages and Node shared with
# docker/base/build.sh, node_modules per arch and lockfile under .cache/builder/).
# Needs patchelf and dpkg-deb (patchelf installed with apt-get when missing and running as root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

arch=${1:-}
out=${2:-}
if [ -z "$arch" ] || [ -z "$out" ]; then
  echo "usage: docker/builder/prepare-context.sh amd64|arm64 OUTDIR" >&2
  exit 2
fi
case $arch in
  amd64) npm_cpu=x64 ;;
  arm64) npm_cpu=arm64 ;;
  *) echo "prepare-context.sh: unknown arch '$arch' (amd64 or arm64)" >&2; exit 2 ;;
esac
# One Node version for the stand-in base and the builder images.
NODE_VERSION=${LAMBDA_KIT_NODE_VERSION:-$(sed -n 's/^NODE_VERSION=//p' "$root/docker/base/build.sh")}
cache=$root/.cache/docker-base
with_node=$root/scripts/with-node
log() { printf 'prepare-context(%s): %s\n' "$arch" "$*" >&2; }

# 1. opt/lambda-kit/{bin,lib}: Node and the glibc it runs on. DT_RPATH (not
#    RUNPATH): it wins over LD_LIBRARY_PATH, which AWS's base images set to
#    /lib64:/usr/lib64:..., where their older glibc lives.
mkdir -p "$out"
out=$(cd "$out" && pwd)
dest=$out/opt/lambda-kit
rm -rf "$dest"
mkdir -p "$dest/kit"
extra_libs=()
for lib in librt.so.1 libresolv.so.2 libanl.so.1 libutil.so.1 libnss_files.so.2 libnss_dns.so.2; do extra_libs+=(--extra-lib "$lib"); done
"$with_node" node "$root/src/build/node/node-runtime-cli.ts" node-with-glibc --arch "$arch" --node-version "$NODE_VERSION" \
  --lib-path /opt/lambda-kit/lib "${extra_libs[@]}" --cache "$cache" --out "$dest"

# 2. opt/lambda-kit/kit: the kit compiled from this checkout (into the context,
#    so stale files in dist/ never get in), without declarations.
"$with_node" "$root/node_modules/.bin/tsc" -p "$root/tsconfig.build.json" --outDir "$dest/kit/dist"
find "$dest/kit/dist" \( -name '*.d.ts' -o -name '*.d.ts.map' \) -delete
for launchers in src/build/node/launcher src/build/snapshot/launcher; do
  mkdir -p "$dest/kit/dist/$launchers"
  cp "$root/$launchers"/*.cjs "$dest/kit/dist/$launchers/"
done
cp -R "$root/bin" "$dest/kit/bin"
# The runtime's sources: the kit bundles these (not the compiled copy), so a build in the
# builder gives the same bytes as one on the host.
cp -R "$root/runtime" "$dest/kit/runtime"
cp "$root/package.json" "$dest/kit/package.json"

# 3. Production node_modules for ARCH, cached per arch and package-lock.json. No install
#    scripts (esbuild's only checks and links its binary; the JS API finds
#    @esbuild/linux-<cpu> by itself), and not the project's own `prepare`.
deps_key=$(sha256sum <"$root/package-lock.json" | cut -c1-16)
deps=$root/.cache/builder/node_modules/$arch-$deps_key
if [ ! -d "$deps/node_modules" ]; then
  log "installing production node_modules for linux/$npm_cpu"
  rm -rf "$root/.cache/builder/node_modules/$arch-"*   # other lockfiles' installs
  mkdir -p "$deps.tmp"
  cp "$root/package.json" "$root/package-lock.json" "$deps.tmp/"
  (cd "$deps.tmp" && "$with_node" npm ci --omit=dev --os=linux --cpu="$npm_cpu" --ignore-scripts \
    --no-audit --no-fund --loglevel=error >/dev/null)
  if [ ! -d "$deps.tmp/node_modules/@esbuild/linux-$npm_cpu" ]; then
    echo "prepare-context.sh: npm did not install @esbuild/linux-$npm_cpu" >&2
    exit 1
  fi
  mv "$deps.tmp" "$deps"
fi
cp -R "$deps/node_modules" "$dest/kit/node_modules"

# 4. The Dockerfiles, so the context is complete on its own (also for the API).
cp "$root/Dockerfile.al2" "$root/Dockerfile.al1" "$out/"
chmod -R a+rX "$dest"
log "context ready in $out ($(du -sh "$dest" | cut -f1), Node $NODE_VERSION)"
