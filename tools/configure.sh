#!/usr/bin/env bash
# Configures a build tree with the given flags. CMake keeps its cache, so a
# second run only checks and takes about a second; a changed flag takes effect.
# Usage: configure.sh DIR [cmake flags...]
set -euo pipefail
dir=$1
shift
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
