// `wisp backup` and `wisp restore`, the real binary against a CouchDB API
// served in this process on a loopback port: a round trip of questions with
// attachments and conflicts, and runs killed (SIGKILL) in the middle that a
// second run completes with the same result.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cli/progress_bar.h"
#include "http/server.h"
#include "store/backup_fixture.h"
#include "store/couch_api.h"
#include "store/couch_error.h"
#include "store/store.h"
#include "testing/http_test_server.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace wisp::store {
namespace {

using namespace std::chrono_literals;
using testing::ExpectSameDatabases;
using testing::WriteQuestions;
using wisp::testing::Subprocess;

constexpr char kAdmin[] = "admin";
constexpr char kPassword[] = "s3cret";
constexpr auto kDeadline = 60s;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Lets the first `allowed` requests of one route through, then holds the
// others until Open(): a backup or restore can be caught in the middle.
class Gate {
 public:
  void Close(int allowed) {
    std::lock_guard lock(mu_);
    allowed_ = allowed;
  }
  void Open() {
    std::lock_guard lock(mu_);
    allowed_ = -1;
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    if (allowed_ < 0) return;
    if (allowed_ > 0) {
      --allowed_;
      return;
    }
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return allowed_ < 0; });
  }
  // True once a request is held, within the deadline.
  bool WaitForHeld(std::chrono::milliseconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [this] { return held_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int allowed_ = -1;  // -1: open
  int held_ = 0;
};

class BackupCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(store_->CreateDatabase("questions").ok());
    CouchApiOptions options;
    options.admin_name = kAdmin;
    options.admin_password = kPassword;
    options.feed_threads = 4;
    AddCouchRoutes(couch_, *store_, options);
    // The same routes, with `_bulk_get` and `_bulk_docs` behind gates.
    auto router = std::make_shared<http::Router>();
    for (const http::Route* route : couch_.routes()) {
      http::Handler handler = route->handler;
      Gate* gate = route->pattern == "/{db}/_bulk_get"    ? &bulk_get_gate_
                   : route->pattern == "/{db}/_bulk_docs" ? &bulk_docs_gate_
                                                          : nullptr;
      if (gate != nullptr) {
        handler = [gate, handler](http::Request& request) {
          gate->Pass();
          return handler(request);
        };
      }
      ASSERT_TRUE(router->Add(route->method, route->pattern, handler, route->dispatch).ok());
    }
    http::ListenerOptions listener;
    listener.name = "couch";
    listener.bind = "127.0.0.1";
    listener.port = 0;
    listener.router = router;
    listener.render_error = RenderCouchError;
    server_ = std::make_unique<http::Server>(wisp::testing::TestServer::DefaultServerOptions());
    server_->AddListener(std::move(listener));
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    bulk_get_gate_.Open();
    bulk_docs_gate_.Open();
    server_->Stop(1000ms);
  }

  std::string Url(const std::string& password = kPassword) const {
    return std::string("http://") + kAdmin + ":" + password + "@127.0.0.1:" + std::to_string(server_->port(0));
  }
  std::shared_ptr<Database> Db(const std::string& name) { return *store_->GetDatabase(name); }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  std::unique_ptr<Subprocess> Start(std::vector<std::string> args) {
    args.insert(args.begin(), WISP_BINARY);
    args.push_back("--url");
    args.push_back(Url());
    return std::make_unique<Subprocess>(args, Path("stderr.txt"));
  }

  // Runs the command to its end: the exit code; the output in *out.
  int Run(std::vector<std::string> args, std::string* out = nullptr) {
    auto p = Start(std::move(args));
    const int code = p->Wait(kDeadline);
    p->ReadLineContaining("\n", 100ms);
    if (out != nullptr) *out = p->output();
    return code;
  }

  wisp::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  http::Router couch_;
  Gate bulk_get_gate_;
  Gate bulk_docs_gate_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(BackupCommandTest, BackupAndRestoreOverHttpKeepEveryLeafAndAttachment) {
  WriteQuestions(*Db("questions"), 2000);
  std::string out;
  ASSERT_EQ(Run({"backup", "questions", "-o", Path("q.jsonl")}, &out), 0) << ReadFile(Path("stderr.txt"));
  EXPECT_NE(out.find("ok: backed up 2000 documents (2200 revisions) of questions"), std::string::npos) << out;
  ASSERT_EQ(Run({"restore", Path("q.jsonl"), "copy"}, &out), 0) << ReadFile(Path("stderr.txt"));
  EXPECT_NE(out.find("ok: restored 2200 document revisions"), std::string::npos) << out;
  // Not a terminal: no progress bar on stderr.
  EXPECT_EQ(ReadFile(Path("stderr.txt")), "");
  ExpectSameDatabases(*Db("questions"), *Db("copy"));
}

TEST_F(BackupCommandTest, KilledBackupResumesAndWritesTheSameFile) {
  WriteQuestions(*Db("questions"), 1000);
  ASSERT_EQ(Run({"backup", "questions", "-o", Path("whole.jsonl"), "--batch-size", "100"}), 0);

  bulk_get_gate_.Close(4);  // four batches, then the fifth is held
  auto backup = Start({"backup", "questions", "-o", Path("cut.jsonl"), "--batch-size", "100"});
  ASSERT_TRUE(bulk_get_gate_.WaitForHeld(kDeadline));
  EXPECT_EQ(backup->Signal(SIGKILL, kDeadline), 128 + SIGKILL);
  bulk_get_gate_.Open();
  ASSERT_TRUE(std::filesystem::exists(Path("cut.jsonl.backup-log")));
  EXPECT_LT(std::filesystem::file_size(Path("cut.jsonl")), std::filesystem::file_size(Path("whole.jsonl")));

  std::string out;
  ASSERT_EQ(Run({"backup", "questions", "-o", Path("cut.jsonl"), "--batch-size", "100"}, &out), 0);
  EXPECT_NE(ReadFile(Path("stderr.txt")).find("resuming an interrupted backup (400 documents done)"), std::string::npos)
      << ReadFile(Path("stderr.txt"));
  EXPECT_NE(out.find("ok: backed up 1000 documents"), std::string::npos) << out;
  EXPECT_EQ(ReadFile(Path("cut.jsonl")), ReadFile(Path("whole.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(Path("cut.jsonl.backup-log")));
}

TEST_F(BackupCommandTest, KilledRestoreResumesAndTheDatabaseMatches) {
  WriteQuestions(*Db("questions"), 1000);
  ASSERT_EQ(Run({"backup", "questions", "-o", Path("q.jsonl"), "--batch-size", "100"}), 0);

  bulk_docs_gate_.Close(3);
  auto restore = Start({"restore", Path("q.jsonl"), "copy"});
  ASSERT_TRUE(bulk_docs_gate_.WaitForHeld(kDeadline));
  EXPECT_EQ(restore->Signal(SIGKILL, kDeadline), 128 + SIGKILL);
  bulk_docs_gate_.Open();
  ASSERT_TRUE(std::filesystem::exists(Path("q.jsonl.restore-log")));

  std::string out;
  ASSERT_EQ(Run({"restore", Path("q.jsonl"), "copy"}, &out), 0) << ReadFile(Path("stderr.txt"));
  EXPECT_NE(ReadFile(Path("stderr.txt")).find("resuming an interrupted restore"), std::string::npos);
  ExpectSameDatabases(*Db("questions"), *Db("copy"));
  EXPECT_FALSE(std::filesystem::exists(Path("q.jsonl.restore-log")));
}

TEST_F(BackupCommandTest, FailuresSayWhatAndExitNonZero) {
  std::string out;
  EXPECT_EQ(Run({"backup", "nosuchdb", "-o", Path("x.jsonl")}), 1);
  EXPECT_NE(ReadFile(Path("stderr.txt")).find("wisp backup: could not open"), std::string::npos)
      << ReadFile(Path("stderr.txt"));

  auto p = std::make_unique<Subprocess>(
      std::vector<std::string>{WISP_BINARY, "backup", "questions", "-o", Path("x.jsonl"), "--url", Url("wrong")},
      Path("stderr.txt"));
  EXPECT_EQ(p->Wait(kDeadline), 1);
  EXPECT_NE(ReadFile(Path("stderr.txt")).find("put credentials in --url or --admin"), std::string::npos)
      << ReadFile(Path("stderr.txt"));

  EXPECT_EQ(Run({"restore", Path("missing.jsonl"), "copy"}), 1);
  EXPECT_NE(ReadFile(Path("stderr.txt")).find("cannot read"), std::string::npos);
  EXPECT_EQ(Run({"backup", "questions"}), 2);  // no -o
}

TEST(ProgressBar, ShowsTheBarTheCountsAndTheRate) {
  EXPECT_EQ(cli::FormatProgress(0.5, 25000, 50000, "docs", 2.0, 10),
            "[#####.....] 50%  25,000/50,000 docs  12,500 docs/s");
  EXPECT_EQ(cli::FormatProgress(-1, 999, -1, "docs", 0, 10), "999 docs");
  EXPECT_EQ(cli::FormatProgress(1.5, 3, 2, "docs", 0, 4), "[####] 100%  3/2 docs");
}

}  // namespace
}  // namespace wisp::store
