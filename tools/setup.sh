#!/usr/bin/env bash
# Installs what wisp needs and is missing, and nothing else, so that a second
# run takes about a second. Debian packages come from apt; npm packages from
# the lockfiles in web/ and tests/e2e/ (when those exist).
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and test dependencies, all from Debian 12 (chromium: the browser tests
# drive it with playwright-core; no browser is downloaded; bubblewrap: the
# action sandbox, docs/security.md).
packages=(
  build-essential cmake ninja-build ccache pkg-config python3
  libboost-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev
  nlohmann-json3-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev
  libzip-dev libyaml-cpp-dev
  openssl curl nginx-light wrk clang-format clang-tidy
  clang-14 libfuzzer-14-dev
  nodejs npm
  chromium
  prometheus  # for `promtool check metrics` (ctest e2e.node.metrics); its service is not needed
  bubblewrap
)

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# nodejs may come from outside Debian (NodeSource or a preinstalled build); a working node and npm suffice.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, pinned by each lockfile; reinstalled only when the lockfile
# changed. In web/, `npm ci` also copies the browser builds into web/vendor/
# (web/vendor.mjs), which the build embeds in the binary.
for dir in web tests/e2e; do  # bench/ installs its own packages when a benchmark runs
  if [ -f "$dir/package-lock.json" ]; then
    stamp="$dir/node_modules/.wisp-lock-stamp"
    if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp" || { [ "$dir" = web ] && [ ! -d web/vendor ]; }; then
      echo "setup: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      cp "$dir/package-lock.json" "$stamp"
    fi
  fi
done
