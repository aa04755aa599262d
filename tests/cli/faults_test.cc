// Faults against the real binary (docs/reliability.md): kill -9 during heavy
// writes and during a replication, and a full disk. After each, every write
// that was acknowledged is there at its acknowledged revision (or a
// descendant of it), and `wisp store check` passes on the data directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include "http/client.h"
#include "json/json.h"
#include "testing/notification.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "util/base64.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;

constexpr char kAdmin[] = "admin:faults";

// `wisp serve` on loopback with its CouchDB face on `couch_port` (0: any).
class Wisp {
 public:
  explicit Wisp(std::string dir, int couch_port = 0) : dir_(std::move(dir)) { Start(couch_port); }

  void Start(int couch_port) {
    process_ = std::make_unique<Subprocess>(
        std::vector<std::string>{WISP_BINARY, "serve", "--data-dir", dir_, "--api-port", "0", "--couch-port",
                                 std::to_string(couch_port), "--admin", kAdmin, "--log-level", "warn"},
        dir_ + ".stderr.txt");
    std::smatch m;
    const std::string line = process_->ReadLineContaining("CouchDB API", 20s);
    port_ = std::regex_search(line, m, std::regex(R"(:(\d+)/)")) ? std::stoi(m[1]) : -1;
  }
  // Kills with SIGKILL, waits for the death, and starts again on the same port.
  int KillNine() { return process_->Signal(SIGKILL, 10s); }
  void Restart() { Start(port_); }
  int Stop() { return process_->Signal(SIGTERM, 20s); }
  bool Running() { return process_->Wait(0ms) == -1; }

  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The URL with the admin's credentials in it, as a replication endpoint.
  std::string AuthUrl(const std::string& db) const {
    return "http://" + std::string(kAdmin) + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

 private:
  std::string dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = -1;
};

Result<http::ClientResponse> Call(http::Client& client, const std::string& method, const std::string& url,
                                  const std::string& body = "") {
  http::ClientRequest r;
  r.method = method;
  r.url = url;
  r.body = body;
  r.headers.Set("Authorization", "Basic " + Base64Encode(kAdmin));
  r.headers.Set("Content-Type", "application/json");
  r.timeout = 20s;
  return client.Send(r);
}

Json BodyOf(const Result<http::ClientResponse>& r) {
  if (!r.ok()) return Json();
  Result<Json> parsed = json::Parse(r->body);
  return parsed.ok() ? *parsed : Json();
}

// Runs `wisp store check DIR`; its exit code, with its report in *report.
int StoreCheck(const std::string& dir, std::string* report) {
  Subprocess check({WISP_BINARY, "store", "check", dir});
  check.ReadLineContaining("databases checked", 60s);
  *report = check.output();
  return check.Wait(60s);
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(20ms);  // a poll interval, not a wait for an event
  }
  return true;
}

int Generation(const std::string& rev) { return std::atoi(rev.c_str()); }

// What a writer was told: document id -> the revision its last 201 named.
class Acknowledged {
 public:
  void Record(const std::string& id, const std::string& rev) {
    std::lock_guard lock(mu_);
    std::string& known = revs_[id];
    if (known.empty() || Generation(rev) > Generation(known)) known = rev;
    ++count_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::map<std::string, std::string> revs() {
    std::lock_guard lock(mu_);
    return revs_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> revs_;  // GUARDED_BY(mu_)
  size_t count_ = 0;                         // GUARDED_BY(mu_)
};

// Every acknowledged write is in `db` at its revision or a descendant of it;
// the ids that are not, with what was found.
std::vector<std::string> MissingWrites(http::Client& client, const std::string& db_url,
                                       const std::map<std::string, std::string>& acked) {
  std::vector<std::string> missing;
  for (const auto& [id, rev] : acked) {
    const Json doc = BodyOf(Call(client, "GET", db_url + "/" + id + "?revs=true"));
    bool found = false;
    if (doc.is_object() && doc.contains("_revisions")) {
      const Json& history = doc["_revisions"];
      const int start = history.value("start", 0);
      const int want = Generation(rev);
      const size_t back = static_cast<size_t>(start - want);
      found = start >= want && back < history["ids"].size() &&
              std::to_string(want) + "-" + history["ids"][back].get<std::string>() == rev;
    }
    if (!found) missing.push_back(id + " at " + rev + " (found " + json::Dump(doc).substr(0, 120) + ")");
  }
  return missing;
}

// Writers that keep a server busy: half send _bulk_docs of new documents,
// half create a document and then update it again and again with PUT.
class Writers {
 public:
  Writers(std::string db_url, std::string prefix, Acknowledged& acked, int count = 8) {
    for (int w = 0; w < count; ++w) {
      threads_.emplace_back([this, db_url, prefix, w, &acked] {
        http::Client client;
        const std::string me = prefix + "w" + std::to_string(w);
        std::string rev;  // of my document, for the PUT writers
        for (int i = 0; !stop_; ++i) {
          if (w % 2 == 0) {
            Json docs = Json::array();
            for (int k = 0; k < 20; ++k) {
              docs.push_back({{"_id", me + "-" + std::to_string(i) + "-" + std::to_string(k)}, {"n", k}});
            }
            auto r = Call(client, "POST", db_url + "/_bulk_docs", json::Dump(Json{{"docs", docs}}));
            if (!r.ok()) return;  // the server is gone
            if (r->status != 201) continue;
            for (const Json& row : BodyOf(r)) {
              if (row.contains("rev") && !row.contains("error")) acked.Record(row["id"], row["rev"]);
            }
          } else {
            Json doc = {{"i", i}, {"text", std::string(200, 'x')}};
            if (!rev.empty()) doc["_rev"] = rev;
            auto r = Call(client, "PUT", db_url + "/" + me, json::Dump(doc));
            if (!r.ok()) return;
            if (r->status != 201) continue;
            rev = BodyOf(r)["rev"];
            acked.Record(me, rev);
          }
        }
      });
    }
  }
  ~Writers() { Join(); }
  void Join() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST(Faults, KillNineDuringHeavyWritesLosesNoAcknowledgedRevision) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  Wisp wisp(dir);
  ASSERT_GT(wisp.port(), 0);
  http::Client client;
  auto created = Call(client, "PUT", wisp.base() + "/heavy");
  ASSERT_TRUE(created.ok() && created->status == 201);

  std::mt19937 random(std::random_device{}());
  Acknowledged acked;
  constexpr int kKills = 3;
  for (int round = 0; round < kKills; ++round) {
    // A random point: somewhere between a few hundred and a few thousand writes in.
    const size_t kill_at = acked.count() + std::uniform_int_distribution<size_t>(300, 3000)(random);
    Writers writers(wisp.base() + "/heavy", "r" + std::to_string(round), acked);
    ASSERT_TRUE(WaitUntil([&] { return acked.count() >= kill_at; }, 60s)) << acked.count() << " acknowledged";
    EXPECT_EQ(wisp.KillNine(), 128 + SIGKILL);  // while every writer is mid-request
    writers.Join();
    wisp.Restart();
    ASSERT_GT(wisp.port(), 0);
    std::vector<std::string> missing = MissingWrites(client, wisp.base() + "/heavy", acked.revs());
    EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged writes lost after kill " << round + 1 << ", e.g. "
                                 << missing.front();
  }
  EXPECT_GT(acked.revs().size(), 100u);
  EXPECT_EQ(wisp.Stop(), 0);
  std::string report;
  EXPECT_EQ(StoreCheck(dir, &report), 0) << report;
  EXPECT_NE(report.find("ok      heavy"), std::string::npos) << report;
}

// The longest legal name of characters that file names escape has a digest
// for a file name and its name in a file beside it (docs/store_format.md):
// after kill -9 and a restart it is still listed and readable, and `wisp
// store check` finds it under its name.
TEST(Faults, LongestDatabaseNameSurvivesKillNineAndStoreCheck) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  const std::string name = "a" + std::string(237, '(');
  Wisp wisp(dir);
  ASSERT_GT(wisp.port(), 0);
  http::Client client;
  auto created = Call(client, "PUT", wisp.base() + "/" + name);
  ASSERT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : created.status().ToString());
  auto written = Call(client, "PUT", wisp.base() + "/" + name + "/doc", R"({"n":1})");
  ASSERT_TRUE(written.ok() && written->status == 201);
  EXPECT_EQ(wisp.KillNine(), 128 + SIGKILL);
  wisp.Restart();
  ASSERT_GT(wisp.port(), 0);
  const Json all_dbs = BodyOf(Call(client, "GET", wisp.base() + "/_all_dbs"));
  EXPECT_EQ(std::count(all_dbs.begin(), all_dbs.end(), Json(name)), 1) << all_dbs;
  EXPECT_EQ(BodyOf(Call(client, "GET", wisp.base() + "/" + name + "/doc"))["n"], 1);
  EXPECT_EQ(wisp.Stop(), 0);
  std::string report;
  EXPECT_EQ(StoreCheck(dir, &report), 0) << report;
  EXPECT_NE(report.find("ok      " + name + " (1 documents"), std::string::npos) << report;
}

TEST(Faults, KillNineOfTheTargetMidReplicationResumesAndConverges) {
  testing::TempDir tmp;
  Wisp source(tmp.path() + "/source");
  Wisp target(tmp.path() + "/target");
  ASSERT_GT(source.port(), 0);
  ASSERT_GT(target.port(), 0);
  http::Client client;
  ASSERT_EQ(Call(client, "PUT", source.base() + "/src")->status, 201);
  constexpr int kDocs = 4000;
  for (int batch = 0; batch < kDocs / 500; ++batch) {
    Json docs = Json::array();
    for (int k = 0; k < 500; ++k) docs.push_back({{"_id", "d" + std::to_string(batch * 500 + k)}, {"batch", batch}});
    ASSERT_EQ(Call(client, "POST", source.base() + "/src/_bulk_docs", json::Dump(Json{{"docs", docs}}))->status, 201);
  }
  // A continuous replication, started from the source's _replicator.
  const Json job = {{"_id", "to-target"},      {"source", source.AuthUrl("src")}, {"target", target.AuthUrl("dst")},
                    {"create_target", true}, {"continuous", true}};
  ASSERT_EQ(Call(client, "POST", source.base() + "/_replicator", json::Dump(job))->status, 201);
  auto target_count = [&] {
    const Json info = BodyOf(Call(client, "GET", target.base() + "/dst"));
    return info.is_object() ? info.value("doc_count", int64_t{0}) : int64_t{-1};
  };
  // Mid-stream: once a quarter of the documents are there.
  ASSERT_TRUE(WaitUntil([&] { return target_count() >= kDocs / 4; }, 30s));
  const int64_t before_kill = target_count();
  EXPECT_EQ(target.KillNine(), 128 + SIGKILL);
  // Writes go on while the target is down.
  Acknowledged acked;
  {
    Writers writers(source.base() + "/src", "late", acked, 2);
    ASSERT_TRUE(WaitUntil([&] { return acked.count() >= 200; }, 30s));
  }
  target.Restart();
  ASSERT_GT(target.port(), 0);

  const int64_t expected = BodyOf(Call(client, "GET", source.base() + "/src"))["doc_count"];
  ASSERT_TRUE(WaitUntil([&] { return target_count() == expected; }, 60s))
      << target_count() << " of " << expected << " documents arrived";
  // The same revisions on both sides, and every acknowledged write among them.
  const Json src_docs = BodyOf(Call(client, "GET", source.base() + "/src/_all_docs"));
  const Json dst_docs = BodyOf(Call(client, "GET", target.base() + "/dst/_all_docs"));
  ASSERT_TRUE(WaitUntil(
      [&] { return BodyOf(Call(client, "GET", target.base() + "/dst/_all_docs"))["rows"] == src_docs["rows"]; }, 30s));
  EXPECT_TRUE(MissingWrites(client, target.base() + "/dst", acked.revs()).empty());
  // The job resumed from its checkpoint instead of starting over: it read
  // fewer changes than the two runs' documents together.
  const Json state = BodyOf(Call(client, "GET", source.base() + "/_scheduler/docs/_replicator/to-target"));
  EXPECT_EQ(state["state"], "running") << json::Dump(state);
  const int64_t read = state["info"].value("docs_read", int64_t{0});
  EXPECT_LT(read, expected + before_kill) << json::Dump(state);
  std::cerr << "[ replication ] " << before_kill << " of " << kDocs << " documents were on the target at the kill; "
            << read << " changes read for " << expected << " documents\n";

  EXPECT_EQ(target.Stop(), 0);
  EXPECT_EQ(source.Stop(), 0);
  for (const char* side : {"/source", "/target"}) {
    std::string report;
    EXPECT_EQ(StoreCheck(tmp.path() + side, &report), 0) << report;
  }
}

// A tmpfs with a size cap, mounted for the test and unmounted after it.
class SmallDisk {
 public:
  explicit SmallDisk(std::string path) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    if (mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      error_ = std::strerror(errno);
    } else {
      mounted_ = true;
    }
  }
  ~SmallDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  // Makes the file system larger: the space an operator frees.
  bool Grow() { return mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, "size=64m") == 0; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

TEST(Faults, FullDiskFailsWritesWithAClearErrorAndKeepsWhatWasAcknowledged) {
  testing::TempDir tmp;
  SmallDisk disk(tmp.path() + "/disk");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a size-capped tmpfs here (" << disk.error()
                 << "); the full-disk test needs root or CAP_SYS_ADMIN";
  }
  const std::string dir = tmp.path() + "/disk/data";
  Wisp wisp(dir);
  ASSERT_GT(wisp.port(), 0);
  http::Client client;
  ASSERT_EQ(Call(client, "PUT", wisp.base() + "/full")->status, 201);

  // Fill the disk: 32 KiB documents until the store refuses one.
  Acknowledged acked;
  const std::string filler(32 * 1024, 'f');
  Json refusal;
  int refused_status = 0;
  for (int i = 0; i < 2000 && refused_status == 0; ++i) {
    const std::string id = "doc" + std::to_string(i);
    auto r = Call(client, "PUT", wisp.base() + "/full/" + id, json::Dump(Json{{"filler", filler}}));
    ASSERT_TRUE(r.ok()) << "the server stopped answering at write " << i << ": " << r.status().ToString();
    if (r->status == 201) {
      acked.Record(id, BodyOf(r)["rev"]);
    } else {
      refused_status = r->status;
      refusal = BodyOf(r);
    }
  }
  ASSERT_NE(refused_status, 0) << "the disk never filled";
  // CouchDB has no status of its own for a full disk: its catch-all answers 500.
  EXPECT_EQ(refused_status, 500) << json::Dump(refusal);
  EXPECT_EQ(refusal.value("error", ""), "unknown_error") << json::Dump(refusal);
  EXPECT_NE(refusal.value("reason", "").find("disk is full"), std::string::npos) << json::Dump(refusal);
  EXPECT_GT(acked.revs().size(), 100u);

  // Still full: writes keep failing the same way, reads work, the server lives.
  auto again = Call(client, "POST", wisp.base() + "/full/_bulk_docs",
                    json::Dump(Json{{"docs", Json::array({{{"filler", filler}}, {{"filler", filler}}})}}));
  ASSERT_TRUE(again.ok());
  // As in CouchDB, _bulk_docs answers 201 with an error in each document's row.
  EXPECT_EQ(again->status, 201) << again->body;
  for (const Json& row : BodyOf(again)) {
    EXPECT_EQ(row.value("error", ""), "unknown_error") << again->body;
    EXPECT_NE(row.value("reason", "").find("disk is full"), std::string::npos) << again->body;
  }
  EXPECT_TRUE(MissingWrites(client, wisp.base() + "/full", acked.revs()).empty());
  auto info = Call(client, "GET", wisp.base() + "/full");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, 200);
  EXPECT_EQ(BodyOf(info)["doc_count"], static_cast<int64_t>(acked.revs().size()));
  EXPECT_TRUE(wisp.Running());

  // Once there is room again, writes succeed without a restart.
  ASSERT_TRUE(disk.Grow()) << std::strerror(errno);
  bool written = false;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = Call(client, "PUT", wisp.base() + "/full/after", json::Dump(Json{{"filler", filler}}));
        written = r.ok() && r->status == 201;
        return written;
      },
      10s));
  EXPECT_TRUE(MissingWrites(client, wisp.base() + "/full", acked.revs()).empty());
  EXPECT_EQ(wisp.Stop(), 0);
  std::string report;
  EXPECT_EQ(StoreCheck(dir, &report), 0) << report;
}

}  // namespace
}  // namespace wisp
