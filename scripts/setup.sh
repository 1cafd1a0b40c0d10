#!/usr/bin/env bash
# Brings this machine to the point where `npm test` runs, and does only what
# is missing (a few seconds when nothing is), printing one line per thing:
#
#   - Node >= 22: Node 24 into .tools/node (npm install --prefix .tools/node
#     node@24) when the machine's node is older; scripts/with-node picks it up.
#   - node_modules: npm ci when missing or older than package-lock.json.
#   - aws-lambda-ric's native addon (node-gyp), built against this Node's own
#     headers (npm package node-<platform>-<arch>@<version>, in .cache/node-headers)
#     when it is missing or was built for another Node; cmake/g++/make from apt
#     when missing.
#   - Debian's awscli (/usr/bin/aws) from apt when missing, for the CLI tests.
#   - Docker, for the Docker tests (skip all of it with --no-docker):
#       docker.io, qemu-user-static, binfmt-support from apt when missing;
#       binfmt_misc mounted and qemu for the other architecture enabled;
#       dockerd started in the background (--bridge=none --iptables=false,
#       log in .cache/dockerd.log) when `docker info` does not answer;
#       the local stand-in base images lambda-kit/base:al2023-local-{amd64,arm64}
#       (docker/base/build.sh), built when missing or their recipe changed.
#
# Node or npm failures stop the script. Docker problems do not: it warns,
# records why in .cache/setup/docker (the Docker tests quote it when they
# fail) and exits 0, so jobs without Docker still run the unit tests.
#
# Usage: bash scripts/setup.sh [--no-docker]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

use_docker=1
for arg in "$@"; do
  case $arg in
    --no-docker) use_docker=0 ;;
    -h | --help) sed -n '2,/^set -/{/^set -/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

started=$SECONDS
state_dir=$root/.cache/setup
mkdir -p "$state_dir"
say() { printf '%s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# --- Node --------------------------------------------------------------------
tools_bin=$root/.tools/node/node_modules/.bin
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$tools_bin/node" ]; then
  node_summary="node $("$tools_bin/node" -v) (.tools/node)"
  say "node: using .tools/node $("$tools_bin/node" -v)"
elif command -v node >/dev/null && [ "$(node_major)" -ge 22 ]; then
  node_summary="node $(node -v)"
  say "node: using $(command -v node) $(node -v)"
else
  if ! command -v npm >/dev/null; then
    echo "node: no Node >= 22 and no npm to install it with: install Node 22 or newer first" >&2
    exit 1
  fi
  old=$(node -v 2>/dev/null || echo none)
  npm install --prefix .tools/node --no-audit --no-fund --loglevel=error node@24 >/dev/null
  node_summary="node $("$tools_bin/node" -v) (.tools/node)"
  say "node: installed Node $("$tools_bin/node" -v) into .tools/node (machine's node: $old)"
fi
[ -x "$tools_bin/node" ] && export PATH="$tools_bin:$PATH"

# --- npm dependencies ----------------------------------------------------------
stamp=node_modules/.package-lock.json
# --ignore-scripts: the project's own `prepare` (compile to dist/) is not
# needed to test and must not make set-up fail on a work-in-progress tree;
# esbuild's install script (the one dependency allowed scripts) runs after.
npm_flags=(--ignore-scripts --no-audit --no-fund --loglevel=error)
install=""
if [ -f package-lock.json ] && { [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; }; then
  install=ci
elif [ ! -f package-lock.json ] && [ ! -d node_modules ]; then
  install=install
fi
if [ -n "$install" ]; then
  npm "$install" "${npm_flags[@]}" >/dev/null
  npm rebuild esbuild --no-audit --no-fund --loglevel=error >/dev/null
  say "npm: ran npm $install (node_modules was missing or older than package-lock.json)"
else
  say "npm: node_modules up to date"
fi

# --- aws-lambda-ric's native addon ------------------------------------------------
# AWS's Node runtime client (a devDependency, for the compatibility tests) has a
# native addon built by node-gyp, which must use the headers of the Node that
# runs it. The machine's npm config may point nodedir at another Node's headers
# (/usr: Debian's Node 20), so the headers come from the npm package
# node-<platform>-<arch> of exactly this Node's version, into .cache/node-headers.
ric_dir=node_modules/aws-lambda-ric
ric_addon=$ric_dir/rapid-client.node
ric_state=$state_dir/aws-lambda-ric
node_version=$(node -p process.version)
if [ ! -d "$ric_dir" ]; then
  say "aws-lambda-ric: not installed (not in package-lock.json?), nothing to build"
elif [ -f "$ric_addon" ] && [ "$(cat "$ric_state" 2>/dev/null)" = "$node_version" ]; then
  say "aws-lambda-ric: native addon built (against $node_version headers)"
else
  t0=$SECONDS
  ric_tools=()
  command -v cmake >/dev/null || ric_tools+=(cmake)
  command -v g++ >/dev/null || ric_tools+=(g++)
  command -v make >/dev/null || ric_tools+=(make)
  if [ ${#ric_tools[@]} -gt 0 ]; then
    if ! is_root || ! command -v apt-get >/dev/null; then
      echo "aws-lambda-ric: building its native addon needs ${ric_tools[*]}: install them (Debian/Ubuntu: sudo apt-get install -y ${ric_tools[*]}) and run this again" >&2
      exit 1
    fi
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${ric_tools[@]}" >/dev/null
    say "apt: installed ${ric_tools[*]} (to build aws-lambda-ric)"
  fi
  headers=$root/.cache/node-headers/node-$node_version
  if [ ! -f "$headers/include/node/node.h" ] || [ ! -f "$headers/include/node/common.gypi" ]; then
    dist=node-$(node -p 'process.platform + "-" + process.arch')
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "$dist@${node_version#v}" --silent --no-audit --no-fund --loglevel=error >/dev/null)
    mkdir -p "$headers"
    tar xzf "$tmp"/*.tgz -C "$headers" --strip-components=1 package/include
    rm -rf "$tmp"
  fi
  ric_log=$root/.cache/aws-lambda-ric-build.log
  if ! npm_config_nodedir=$headers npm rebuild aws-lambda-ric --foreground-scripts --no-audit --no-fund >"$ric_log" 2>&1 || [ ! -f "$ric_addon" ]; then
    tail -n 30 "$ric_log" >&2
    echo "aws-lambda-ric: building its native addon failed (log: .cache/aws-lambda-ric-build.log)" >&2
    exit 1
  fi
  printf '%s\n' "$node_version" >"$ric_state"
  say "aws-lambda-ric: built its native addon against $node_version headers (.cache/node-headers/node-$node_version) in $((SECONDS - t0)) s"
fi

# --- awscli ------------------------------------------------------------------------
# Debian's awscli, for the tests that run `aws lambda invoke` against the emulator.
# They call /usr/bin/aws by path: another `aws` (pyenv, pip) may shadow it on PATH.
# A machine that cannot get it goes on (the unit tests do not need it), loudly.
awscli_install_ok() { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null 2>&1; }
if [ -x /usr/bin/aws ]; then
  awscli_summary="$(/usr/bin/aws --version 2>&1 | cut -d' ' -f1)"
  say "awscli: $awscli_summary (/usr/bin/aws)"
elif ! is_root || ! command -v apt-get >/dev/null; then
  awscli_summary="awscli MISSING; the awscli tests will fail"
  warn "awscli: /usr/bin/aws is missing and only root with apt-get can install it: sudo apt-get install -y awscli"
elif awscli_install_ok && [ -x /usr/bin/aws ]; then
  awscli_summary="$(/usr/bin/aws --version 2>&1 | cut -d' ' -f1)"
  say "apt: installed awscli ($awscli_summary, /usr/bin/aws)"
else
  awscli_summary="awscli MISSING; the awscli tests will fail"
  warn "awscli: apt-get could not install awscli: the awscli tests (test/emulator/awscli.test.ts) will fail"
fi

# --- Docker --------------------------------------------------------------------
docker_state=$state_dir/docker
docker_summary=""
docker_unavailable() {
  printf 'unavailable: %s\n' "$1" >"$docker_state"
  docker_summary="docker UNAVAILABLE ($1); the Docker tests will fail"
  warn "docker: $1"
  warn "Continuing without Docker: the Docker tests (npm run test:docker, part of npm test) will fail."
}
docker_answers() { timeout 15 docker info >/dev/null 2>&1; }

case $(uname -m) in
  x86_64 | amd64) other_arch=arm64 qemu_arch=aarch64 ;;
  aarch64 | arm64) other_arch=amd64 qemu_arch=x86_64 ;;
  *) other_arch="" qemu_arch="" ;;
esac
binfmt_dir=/proc/sys/fs/binfmt_misc
qemu_enabled() { [ -n "$qemu_arch" ] && grep -qx enabled "$binfmt_dir/qemu-$qemu_arch" 2>/dev/null; }

setup_docker() {
  # Packages: only what is missing, and only what this machine cannot do already.
  local missing=()
  if ! command -v docker >/dev/null || { ! command -v dockerd >/dev/null && ! docker_answers; }; then
    missing+=(docker.io)
  fi
  if [ -n "$qemu_arch" ] && ! qemu_enabled; then
    command -v "qemu-$qemu_arch-static" >/dev/null || missing+=(qemu-user-static)
    command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    if ! is_root || ! command -v apt-get >/dev/null; then
      docker_unavailable "missing ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install -y docker.io qemu-user-static binfmt-support) and run this again"
      return
    fi
    if ! { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
      docker_unavailable "apt-get could not install ${missing[*]}"
      return
    fi
    say "apt: installed ${missing[*]}"
  else
    say "apt: docker and qemu present"
  fi

  # binfmt_misc, so containers of the other architecture run under qemu.
  if [ -n "$qemu_arch" ]; then
    if qemu_enabled; then
      say "binfmt: qemu-$qemu_arch enabled ($other_arch containers run under qemu)"
    elif ! is_root; then
      warn "binfmt: qemu-$qemu_arch is not enabled and only root can enable it: $other_arch containers will not run"
    else
      if [ ! -e "$binfmt_dir/status" ] && mount -t binfmt_misc binfmt_misc "$binfmt_dir"; then
        say "binfmt: mounted binfmt_misc on $binfmt_dir"
      fi
      update-binfmts --enable "qemu-$qemu_arch" >/dev/null 2>&1 || update-binfmts --import "qemu-$qemu_arch" >/dev/null 2>&1 || true
      if qemu_enabled; then
        say "binfmt: enabled qemu-$qemu_arch ($other_arch containers run under qemu)"
      else
        warn "binfmt: could not enable qemu-$qemu_arch: $other_arch containers will not run"
      fi
    fi
  fi

  # The daemon.
  if docker_answers; then
    say "dockerd: answering (server $(docker version -f '{{.Server.Version}}' 2>/dev/null))"
  elif ! is_root; then
    docker_unavailable "the Docker daemon does not answer and only root can start it (sudo dockerd --bridge=none --iptables=false)"
    return
  else
    local log=$root/.cache/dockerd.log t0=$SECONDS
    setsid nohup dockerd --bridge=none --iptables=false >"$log" 2>&1 </dev/null &
    local pid=$! deadline=$((SECONDS + 30))
    until docker_answers; do
      if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        tail -n 20 "$log" >&2 || true
        if kill -0 "$pid" 2>/dev/null; then
          docker_unavailable "started dockerd but it did not answer within 30 s (log: .cache/dockerd.log)"
        else
          docker_unavailable "dockerd exited right after starting (log: .cache/dockerd.log)"
        fi
        return
      fi
      sleep 0.5
    done
    say "dockerd: started in the background (--bridge=none --iptables=false, log .cache/dockerd.log), answering after $((SECONDS - t0)) s"
  fi

  # The local stand-in base images.
  local hash arch tag have t0 built=0
  hash=$(docker/base/build.sh --hash)
  for arch in amd64 arm64; do
    tag=lambda-kit/base:al2023-local-$arch
    have=$(docker image inspect -f '{{index .Config.Labels "org.lambda-kit.recipe-hash"}}' "$tag" 2>/dev/null || true)
    if [ "$have" = "$hash" ]; then
      say "base image: $tag present (recipe $hash)"
      continue
    fi
    t0=$SECONDS
    if ! docker/base/build.sh "$arch" >/dev/null; then
      docker_unavailable "could not build $tag (docker/base/build.sh $arch)"
      return
    fi
    built=$((built + 1))
    say "base image: built $tag ($(( $(docker image inspect -f '{{.Size}}' "$tag") / 1000000 )) MB, recipe $hash${have:+, was $have}) in $((SECONDS - t0)) s"
  done

  printf 'ready\n' >"$docker_state"
  docker_summary="docker ready ($(docker version -f '{{.Server.Version}}' 2>/dev/null), ${qemu_arch:+qemu-$qemu_arch, }base images ok$([ $built -eq 0 ] || echo ", $built built"))"
}

if [ $use_docker -eq 1 ]; then
  setup_docker
else
  printf 'unavailable: scripts/setup.sh ran with --no-docker\n' >"$docker_state"
  docker_summary="docker skipped (--no-docker)"
  say "docker: skipped (--no-docker)"
fi

say "setup: done in $((SECONDS - started)) s: $node_summary, dependencies ok, $awscli_summary, $docker_summary"
