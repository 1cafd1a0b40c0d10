#!/usr/bin/env bash
# Builds the builder images lambda-kit/builder:al2 and lambda-kit/builder:al1
# (Dockerfile.al2, Dockerfile.al1) for one architecture, the host's by default.
#
#   docker/builder/build.sh [--arch amd64|arm64] [--base IMAGE | --local] [--flavour al2|al1]
#
#   --base IMAGE   base image for both flavours (also: env LAMBDA_KIT_BUILDER_BASE);
#                  default: each Dockerfile's own, public.ecr.aws/lambda/provided:al2
#                  and :alami (must be pullable)
#   --local        base = the local stand-in lambda-kit/base:al2023-local-ARCH
#                  (scripts/setup.sh builds it), for machines that cannot pull
#   --flavour F    build only al2 or al1 (default both)
#
# With --arch other than the host's, tags get a -ARCH suffix (lambda-kit/builder:al2-arm64).
# The build context is assembled in .cache/builder/context-ARCH by prepare-context.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

case $(uname -m) in
  x86_64 | amd64) host_arch=amd64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) host_arch=$(uname -m) ;;
esac
arch=$host_arch
base=${LAMBDA_KIT_BUILDER_BASE:-}
local_base=0
flavours=(al2 al1)
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arch=${2:?--arch needs amd64 or arm64}; shift 2 ;;
    --base) base=${2:?--base needs an image}; shift 2 ;;
    --local) local_base=1; shift ;;
    --flavour) flavours=("${2:?--flavour needs al2 or al1}"); shift 2 ;;
    -h | --help) sed -n '2,/^set -/{/^set -/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $arch in amd64 | arm64) ;; *) echo "build.sh: unknown arch '$arch' (amd64 or arm64)" >&2; exit 2 ;; esac
for f in "${flavours[@]}"; do
  case $f in al2 | al1) ;; *) echo "build.sh: unknown flavour '$f' (al2 or al1)" >&2; exit 2 ;; esac
done
[ $local_base -eq 1 ] && base=lambda-kit/base:al2023-local-$arch

context=$root/.cache/builder/context-$arch
"$here/prepare-context.sh" "$arch" "$context"

suffix=""
[ "$arch" = "$host_arch" ] || suffix=-$arch
for flavour in "${flavours[@]}"; do
  tag=lambda-kit/builder:$flavour$suffix
  args=(--platform "linux/$arch" -f "$context/Dockerfile.$flavour" -t "$tag")
  [ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
  previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  # dockerd 20.10 without buildx: the legacy builder.
  if ! log=$(DOCKER_BUILDKIT=0 docker build --quiet "${args[@]}" "$context" 2>&1); then
    printf '%s\n' "$log" >&2
    exit 1
  fi
  # The image this one replaces would stay behind untagged.
  if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
  fi
  echo "$tag ($(( $(docker image inspect -f '{{.Size}}' "$tag") / 1000000 )) MB, linux/$arch, base ${base:-the Dockerfile default})"
done
