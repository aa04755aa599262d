// The fixture of the CLI end-to-end tests: a real `wisp serve` on ephemeral
// ports with its own data dir, and the real `wisp` binary run as a user runs
// it, with a temporary WSK_CONFIG_FILE.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "testing/subprocess.h"

namespace wisp::testing {

using namespace std::chrono_literals;

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string MakeTempDir() {
  char tmpl[] = "/tmp/wisp-wsk-XXXXXX";
  return mkdtemp(tmpl);
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class WskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    server_ = std::make_unique<Subprocess>(
        std::vector<std::string>{WISP_BINARY, "serve", "--data-dir", dir_ + "/data", "--api-port", "0", "--couch-port",
                                 "0", "--log-file", dir_ + "/wisp.log"},
        dir_ + "/server-stderr.txt");
    ASSERT_TRUE(server_->started());
    std::string apihost = server_->ReadLineContaining("APIHOST=", 20s);
    std::string auth = server_->ReadLineContaining("AUTH=", 5s);
    ASSERT_FALSE(apihost.empty()) << server_->output();
    apihost_ = apihost.substr(apihost.find('=') + 1);
    auth_ = auth.substr(auth.find('=') + 1);
    while (!apihost_.empty() && std::isspace(static_cast<unsigned char>(apihost_.back()))) apihost_.pop_back();
    while (!auth_.empty() && std::isspace(static_cast<unsigned char>(auth_.back()))) auth_.pop_back();
    props_ = dir_ + "/wskprops";
    setenv("WSK_CONFIG_FILE", props_.c_str(), 1);
    unsetenv("WHISK_AUTH");
    unsetenv("WHISK_APIHOST");
    unsetenv("WHISK_NAMESPACE");
  }

  void TearDown() override { server_->Signal(SIGTERM, 20s); }

  Outcome Wisp(std::vector<std::string> args) {
    args.insert(args.begin(), WISP_BINARY);
    std::string err_file = dir_ + "/client-stderr-" + std::to_string(runs_++) + ".txt";
    Subprocess p(args, err_file);
    Outcome r;
    p.ReadLineContaining("\x01 never printed", 60s);  // returns when stdout closes
    r.code = p.Wait(30s);
    r.out = p.output();
    r.err = ReadAll(err_file);
    return r;
  }

  void Configure() {
    Outcome r = Wisp({"property", "set", "--apihost", apihost_, "--auth", auth_});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  std::string dir_, props_, apihost_, auth_;
  int runs_ = 0;
  std::unique_ptr<Subprocess> server_;
};

}  // namespace wisp::testing
