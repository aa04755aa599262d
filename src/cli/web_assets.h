// The dashboard's files (web/), embedded in the binary at build time by
// tools/embed_assets.py: `wisp serve` serves them at `/` on the OpenWhisk
// port unless `--web-root DIR` names a directory to serve instead.
//
// Thread-safety: constant data.
#pragma once

#include <span>

#include "http/static_assets.h"

namespace wisp::cli {

// Every embedded file, sorted by path. Empty when the build found no web/.
std::span<const http::EmbeddedAsset> WebAssets();

}  // namespace wisp::cli
