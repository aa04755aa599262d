#!/usr/bin/env bash
# Configures a build tree once; later runs only rebuild. Usage: configure.sh DIR [cmake flags...]
set -euo pipefail
dir=$1
shift
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "$@"
fi
