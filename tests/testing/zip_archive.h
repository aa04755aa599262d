// MakeZip: writes a zip archive for tests of zip payloads (native and
// interpreted actions) and returns it as base64, the way exec.code holds it.
#pragma once

#include <gtest/gtest.h>
#include <zip.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "util/base64.h"

namespace wisp::testing {

// A zip at `path` holding `files` (name -> bytes); names ending in "exec" or
// ".sh" are executable, names ending in ".link" are symbolic links to their
// bytes.
inline std::string MakeZip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  EXPECT_NE(archive, nullptr);
  for (const auto& [name, bytes] : files) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
    EXPECT_GE(index, 0) << name;
    zip_uint32_t mode = 0100644;
    if (name.ends_with("exec") || name.ends_with(".sh")) mode = 0100755;
    if (name.ends_with(".link")) mode = 0120777;
    zip_file_set_external_attributes(archive, index, 0, ZIP_OPSYS_UNIX, mode << 16);
  }
  EXPECT_EQ(zip_close(archive), 0);
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return Base64Encode(bytes.str());
}

}  // namespace wisp::testing
