#!/usr/bin/env bash
# Installs every Debian package llmscale needs to build, test and benchmark.
# Idempotent: when everything is present it returns without touching apt.
# Boost comes only as the versioned 1.81 packages (the unversioned ones are 1.74 and conflict).
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache lld clang libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libboost1.81-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libyaml-dev libspdlog-dev libfmt-dev libcli11-dev
  libre2-dev libxxhash-dev libexpected-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  # real peers used by tests and benchmarks
  prometheus curl openssl wrk hey python3 python3-kubernetes procps
  # the dashboard page (web/, built by npm in the build) and its headless-browser test
  nodejs chromium fonts-dejavu-core
)
# Debian's nodejs comes without npm (its own package); a nodejs that bundles npm needs none.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The prometheus package's postinst would start a daemon on systems with systemd; tests start
# their own instance on a free loopback port, so keep the packaged one from running.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
