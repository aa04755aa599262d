// The replicator (store/replication_manager.h) between local databases and
// a second wisp server in this process, reached over loopback HTTP with the
// real libcurl client, as a remote CouchDB would be.
#include "store/replication_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "http/client.h"
#include "http/server.h"
#include "json/json.h"
#include "store/couch_api.h"
#include "store/couch_error.h"
#include "store/store.h"
#include "testing/http_test_server.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

using namespace std::chrono_literals;

constexpr char kAdmin[] = "admin";
constexpr char kPassword[] = "s3cret";
constexpr auto kDeadline = 20s;

// Waits for `condition` with a deadline, looking again every few
// milliseconds; true when it held in time.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline = kDeadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(5ms);  // a poll interval, not a wait for an event
  }
  return true;
}

std::string TempDir(const char* name) {
  std::string tmpl = std::string("/tmp/wisp-") + name + "-XXXXXX";
  return mkdtemp(tmpl.data());
}

// A wisp CouchDB face over its own Store: the "remote" of these tests.
class RemoteServer {
 public:
  // Listens on `port` (0: any free one).
  explicit RemoteServer(const std::string& dir, uint16_t port = 0, DatabaseOptions db_options = {}) {
    auto store = Store::Open(dir, db_options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto router = std::make_shared<http::Router>();
    CouchApiOptions options;
    options.admin_name = kAdmin;
    options.admin_password = kPassword;
    options.feed_threads = 8;
    options.feed_check_interval = 50ms;
    AddCouchRoutes(*router, *store_, options);
    http::ListenerOptions listener;
    listener.name = "couch";
    listener.bind = "127.0.0.1";
    listener.port = port;
    listener.router = router;
    listener.render_error = RenderCouchError;
    server_ = std::make_unique<http::Server>(testing::TestServer::DefaultServerOptions());
    server_->AddListener(std::move(listener));
    Status s = server_->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~RemoteServer() { server_->Stop(1000ms); }

  uint16_t port() const { return server_->port(0); }
  std::string Url(const std::string& db, const std::string& password = kPassword) const {
    return std::string("http://") + kAdmin + ":" + password + "@127.0.0.1:" + std::to_string(port()) + "/" + db;
  }
  Store& store() { return *store_; }

 private:
  std::unique_ptr<Store> store_;
  std::unique_ptr<http::Server> server_;
};

class ReplicatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    local_dir_ = TempDir("repl-local");
    remote_dir_ = TempDir("repl-remote");
    auto store = Store::Open(local_dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    remote_ = std::make_unique<RemoteServer>(remote_dir_);
    StartManager();
  }

  void TearDown() override {
    manager_.reset();
    remote_.reset();
    store_.reset();
    std::filesystem::remove_all(local_dir_);
    std::filesystem::remove_all(remote_dir_);
  }

  void StartManager(int one_shot_retries = 2) {
    ReplicatorOptions options;
    options.initial_backoff = 10ms;
    options.max_backoff = 100ms;
    options.poll_timeout = 2s;
    options.one_shot_retries = one_shot_retries;
    manager_ = std::make_unique<ReplicationManager>(*store_, options);
    ASSERT_TRUE(manager_->Start().ok());
  }

  static std::shared_ptr<Database> Db(Store& store, const std::string& name) {
    auto db = store.GetDatabase(name);
    if (!db.ok()) {
      EXPECT_TRUE(store.CreateDatabase(name).ok());
      db = store.GetDatabase(name);
    }
    EXPECT_TRUE(db.ok());
    return *db;
  }
  std::shared_ptr<Database> Local(const std::string& name) { return Db(*store_, name); }
  std::shared_ptr<Database> Remote(const std::string& name) { return Db(remote_->store(), name); }

  static std::string Put(Database& db, Json doc) {
    WriteResult w = db.Put(std::move(doc));
    EXPECT_TRUE(w.status.ok()) << w.status.ToString();
    return w.rev;
  }

  static Json Get(Database& db, const std::string& id, GetOptions options = {}) {
    Result<Json> doc = db.Get(id, options);
    return doc.ok() ? *doc : Json();
  }

  ReplicationManager::Reply Replicate(const Json& body) { return manager_->Replicate(body); }

  // A one-shot replication that must succeed; its history entry.
  Json ReplicateOk(const Json& source, const Json& target, Json extra = Json::object()) {
    extra["source"] = source;
    extra["target"] = target;
    ReplicationManager::Reply r = Replicate(extra);
    EXPECT_EQ(r.status, 200) << json::Dump(r.body);
    EXPECT_EQ(r.body.value("ok", false), true) << json::Dump(r.body);
    return r.body.value("history", Json::array()).empty() ? Json() : r.body["history"][0];
  }

  std::string local_dir_;
  std::string remote_dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RemoteServer> remote_;
  std::unique_ptr<ReplicationManager> manager_;
};

// --- local to local ---------------------------------------------------------

TEST_F(ReplicatorTest, LocalToLocalCopiesDocsDeletesAndAttachments) {
  auto src = Local("src");
  Put(*src, {{"_id", "a"}, {"n", 1}});
  const std::string rev_b = Put(*src, {{"_id", "b"}, {"n", 2}});
  ASSERT_TRUE(src->Put({{"_id", "b"}, {"_rev", rev_b}, {"_deleted", true}}).status.ok());
  Put(*src, {{"_id", "c"},
             {"_attachments", {{"note.txt", {{"content_type", "text/plain"}, {"data", Base64Encode("hello")}}}}}});

  Json history = ReplicateOk("src", "tgt", {{"create_target", true}});
  EXPECT_EQ(history["docs_written"], 3);
  EXPECT_EQ(history["doc_write_failures"], 0);

  auto tgt = Local("tgt");
  EXPECT_EQ(Get(*tgt, "a")["n"], 1);
  EXPECT_TRUE(Get(*tgt, "b").is_null());
  Result<Json> tombstone = tgt->OpenRevs("b", {}, GetOptions{});
  ASSERT_TRUE(tombstone.ok());
  EXPECT_EQ((*tombstone)[0]["ok"].value("_deleted", false), true);
  Result<Attachment> att = tgt->GetAttachment("c", "note.txt", std::nullopt);
  ASSERT_TRUE(att.ok()) << att.status().ToString();
  EXPECT_EQ(att->data, "hello");
  EXPECT_EQ(att->content_type, "text/plain");
}

TEST_F(ReplicatorTest, MissingSourceIsNotFoundAndMissingTargetNeedsCreateTarget) {
  ReplicationManager::Reply r = Replicate({{"source", "nope"}, {"target", "tgt"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["error"], "db_not_found");
  Local("src");
  r = Replicate({{"source", "src"}, {"target", "tgt"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(store_->GetDatabase("tgt").ok());
}

TEST_F(ReplicatorTest, BadBodiesGetCouchDbsBadRequest) {
  for (const Json& body :
       {Json::array(), Json{{"source", "a"}}, Json{{"source", "a"}, {"target", "b"}, {"continuous", "yes"}},
        Json{{"source", "a"}, {"target", "b"}, {"doc_ids", "x"}},
        Json{{"source", "a"}, {"target", "b"}, {"filter", "ddoc/f"}},
        Json{{"source", "a"}, {"target", "b"}, {"selector", {{"n", {{"$bad", 1}}}}}},
        Json{{"source", 5}, {"target", "b"}}}) {
    ReplicationManager::Reply r = Replicate(body);
    EXPECT_EQ(r.status, 400) << json::Dump(body);
    EXPECT_EQ(r.body["error"], "bad_request") << json::Dump(body);
  }
  ReplicationManager::Reply r = Replicate({{"source", "a"}, {"target", "b"}, {"cancel", true}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["error"], "not_found");
}

// --- checkpoints --------------------------------------------------------------

TEST_F(ReplicatorTest, SecondRunResumesFromTheCheckpointWithoutResendingDocs) {
  auto src = Local("src");
  for (int i = 0; i < 250; ++i) Put(*src, {{"_id", "d" + std::to_string(i)}, {"i", i}});
  const Json remote = remote_->Url("copy");

  Json first = ReplicateOk("src", remote, {{"create_target", true}, {"batch_size", 100}});
  EXPECT_EQ(first["docs_read"], 250);
  EXPECT_EQ(first["missing_checked"], 250);
  EXPECT_EQ(Remote("copy")->Info()["doc_count"], 250);

  Json second = ReplicateOk("src", remote);
  EXPECT_EQ(second["docs_read"], 0);
  EXPECT_EQ(second["missing_checked"], 0);
  EXPECT_EQ(second["start_last_seq"], first["recorded_seq"]);

  Put(*src, {{"_id", "late"}});
  Json third = ReplicateOk("src", remote);
  EXPECT_EQ(third["docs_read"], 1);
  EXPECT_EQ(third["missing_checked"], 1);

  // The checkpoint is on both ends, under the same id, with the sessions.
  const std::string id = ReplicationSpec::Parse({{"source", "src"}, {"target", remote}})->BaseId(store_->uuid());
  Result<Json> on_source = src->GetLocal("_local/" + id);
  Result<Json> on_target = Remote("copy")->GetLocal("_local/" + id);
  ASSERT_TRUE(on_source.ok());
  ASSERT_TRUE(on_target.ok());
  EXPECT_EQ((*on_source)["session_id"], (*on_target)["session_id"]);
  // The second run found nothing new and wrote no checkpoint, as CouchDB.
  EXPECT_EQ((*on_target)["history"].size(), 2u);
}

TEST_F(ReplicatorTest, ReplicationIdIsStableAndDependsOnTheFilter) {
  auto a = ReplicationSpec::Parse({{"source", "x"}, {"target", "http://u:p@h:1/y"}});
  auto b = ReplicationSpec::Parse({{"source", "x"}, {"target", "http://other:creds@h:1/y/"}, {"continuous", true}});
  auto c = ReplicationSpec::Parse({{"source", "x"}, {"target", "http://h:1/y"}, {"doc_ids", {"k"}}});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->BaseId("uuid"), b->BaseId("uuid"));  // credentials and continuous do not count
  EXPECT_EQ(b->FullId("uuid"), b->BaseId("uuid") + "+continuous");
  EXPECT_NE(a->BaseId("uuid"), c->BaseId("uuid"));
  EXPECT_NE(a->BaseId("uuid"), a->BaseId("other-server"));
  EXPECT_EQ(a->BaseId("uuid").size(), 32u);
}

// --- remote: pull and push, conflicts ----------------------------------------

TEST_F(ReplicatorTest, PushAndPullCarryConflictsBothWaysWithTheSameWinner) {
  auto local = Local("mine");
  const std::string rev1 = Put(*local, {{"_id", "q"}, {"v", "base"}});
  ReplicateOk("mine", remote_->Url("theirs"), {{"create_target", true}});
  auto remote = Remote("theirs");
  ASSERT_EQ(Get(*remote, "q")["v"], "base");

  // Both sides edit the same revision.
  Put(*local, {{"_id", "q"}, {"_rev", rev1}, {"v", "local edit"}});
  Put(*remote, {{"_id", "q"}, {"_rev", rev1}, {"v", "remote edit"}, {"more", true}});
  Put(*remote, {{"_id", "only-remote"}});

  ReplicateOk(remote_->Url("theirs"), "mine");  // pull
  ReplicateOk("mine", remote_->Url("theirs"));  // push

  GetOptions conflicts;
  conflicts.conflicts = true;
  const Json here = Get(*local, "q", conflicts);
  const Json there = Get(*remote, "q", conflicts);
  EXPECT_EQ(here["_rev"], there["_rev"]);
  EXPECT_EQ(here["v"], there["v"]);
  ASSERT_EQ(here["_conflicts"].size(), 1u);
  EXPECT_EQ(here["_conflicts"], there["_conflicts"]);
  EXPECT_FALSE(Get(*local, "only-remote").is_null());
}

TEST_F(ReplicatorTest, PullCarriesDeletesAndAttachmentsFromTheRemote) {
  auto remote = Remote("theirs");
  const std::string rev = Put(*remote, {{"_id", "gone"}});
  ASSERT_TRUE(remote->Put({{"_id", "gone"}, {"_rev", rev}, {"_deleted", true}}).status.ok());
  std::string bytes(5000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  Put(*remote,
      {{"_id", "pic"},
       {"_attachments", {{"p.bin", {{"content_type", "application/octet-stream"}, {"data", Base64Encode(bytes)}}}}}});

  Json history = ReplicateOk(remote_->Url("theirs"), "mine", {{"create_target", true}});
  EXPECT_EQ(history["docs_written"], 2);
  auto local = Local("mine");
  EXPECT_TRUE(Get(*local, "gone").is_null());
  EXPECT_EQ(local->Info()["doc_del_count"], 1);
  Result<Attachment> att = local->GetAttachment("pic", "p.bin", std::nullopt);
  ASSERT_TRUE(att.ok());
  EXPECT_EQ(att->data, bytes);
}

TEST_F(ReplicatorTest, ObjectEndpointsCarryBasicAuthAndHeaders) {
  auto src = Local("src");
  Put(*src, {{"_id", "via-object"}});
  const std::string url = "http://127.0.0.1:" + std::to_string(remote_->port()) + "/objects";
  ReplicateOk("src", {{"url", url}, {"auth", {{"basic", {{"username", kAdmin}, {"password", kPassword}}}}}},
              {{"create_target", true}});
  EXPECT_FALSE(Get(*Remote("objects"), "via-object").is_null());

  const std::string basic = "Basic " + Base64Encode(std::string(kAdmin) + ":" + kPassword);
  Json pulled = ReplicateOk({{"url", url}, {"headers", {{"Authorization", basic}}}}, "back", {{"create_target", true}});
  EXPECT_EQ(pulled["docs_written"], 1);

  ReplicationManager::Reply r = Replicate({{"source", "src"}, {"target", {{"url", url}}}});
  EXPECT_EQ(r.status, 401) << json::Dump(r.body);
}

TEST_F(ReplicatorTest, DocIdsAndSelectorLimitWhatIsReplicated) {
  auto src = Local("src");
  Put(*src, {{"_id", "a"}, {"type", "question"}});
  Put(*src, {{"_id", "b"}, {"type", "user"}});
  Put(*src, {{"_id", "c"}, {"type", "question"}});

  ReplicateOk("src", remote_->Url("by_ids"),
              {{"create_target", true}, {"doc_ids", {"b", "c"}}, {"filter", "_doc_ids"}});
  auto by_ids = Remote("by_ids");
  EXPECT_TRUE(Get(*by_ids, "a").is_null());
  EXPECT_FALSE(Get(*by_ids, "b").is_null());
  EXPECT_FALSE(Get(*by_ids, "c").is_null());

  ReplicateOk("src", "by_selector", {{"create_target", true}, {"selector", {{"type", "question"}}}});
  auto by_selector = Local("by_selector");
  EXPECT_FALSE(Get(*by_selector, "a").is_null());
  EXPECT_TRUE(Get(*by_selector, "b").is_null());
  EXPECT_FALSE(Get(*by_selector, "c").is_null());
}

// --- failures ------------------------------------------------------------------

TEST_F(ReplicatorTest, UnauthorizedRemoteStopsTheJobWithAnError) {
  Local("src");
  Remote("theirs");
  ReplicationManager::Reply r = Replicate({{"source", "src"}, {"target", remote_->Url("theirs", "wrong")}});
  EXPECT_EQ(r.status, 401) << json::Dump(r.body);
  EXPECT_EQ(r.body["error"], "unauthorized");

  // A continuous job fails too instead of retrying for ever.
  r = Replicate({{"source", remote_->Url("theirs", "wrong")}, {"target", "src"}, {"continuous", true}});
  ASSERT_EQ(r.status, 202);
  EXPECT_TRUE(WaitUntil([&] { return manager_->SchedulerJobs()["jobs"].empty(); }));
}

TEST_F(ReplicatorTest, RemoteThatIsDownAtFirstIsRetriedUntilItAnswers) {
  // A free port, with nobody listening on it for now.
  const uint16_t port = remote_->port();
  remote_.reset();
  // Enough retries to outlast however long the server takes to come up.
  manager_.reset();
  StartManager(/*one_shot_retries=*/1'000'000);
  auto src = Local("src");
  Put(*src, {{"_id", "patient"}});

  const std::string url =
      std::string("http://") + kAdmin + ":" + kPassword + "@127.0.0.1:" + std::to_string(port) + "/later";
  ASSERT_TRUE(
      Put(*Local("_replicator"), {{"_id", "retry"}, {"source", "src"}, {"target", url}, {"create_target", true}})
          .size() > 0);
  auto state = [&] {
    Result<Json> doc = manager_->SchedulerDoc("retry");
    return doc.ok() ? json::GetString(*doc, "state") : std::string();
  };
  ASSERT_TRUE(WaitUntil([&] { return state() == "crashing"; })) << state();

  remote_ = std::make_unique<RemoteServer>(remote_dir_, port);
  ASSERT_TRUE(WaitUntil([&] { return state() == "completed"; })) << state();
  EXPECT_FALSE(Get(*Remote("later"), "patient").is_null());
  const Json doc = Get(*Local("_replicator"), "retry");
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["_replication_state"], "completed");
  EXPECT_EQ(doc["_replication_stats"]["docs_written"], 1);
}

// A remote that goes away in the middle of a replication, in either
// direction: the continuous job retries, resumes from its checkpoint (it
// does not read everything again) and ends with both sides equal.
class MidReplicationDropTest : public ReplicatorTest, public ::testing::WithParamInterface<bool> {};

TEST_P(MidReplicationDropTest, RemoteThatDropsMidReplicationIsResumedAndConverges) {
  const bool push = GetParam();
  constexpr int kDocs = 3000;
  auto local = Local("here");
  auto remote = Remote("there");
  Database& source = push ? *local : *remote;
  for (int batch = 0; batch < kDocs / 500; ++batch) {
    std::vector<Json> docs;
    for (int k = 0; k < 500; ++k) docs.push_back({{"_id", "d" + std::to_string(batch * 500 + k)}, {"n", k}});
    for (const WriteResult& w : source.BulkDocs(std::move(docs), true)) ASSERT_TRUE(w.status.ok());
  }
  const Json url = remote_->Url("there");
  ReplicationManager::Reply r = Replicate({{"source", push ? Json("here") : url},
                                           {"target", push ? url : Json("here")},
                                           {"continuous", true}});
  ASSERT_EQ(r.status, 202) << json::Dump(r.body);
  auto target_count = [&] {
    if (!push) return local->Info()["doc_count"].get<int64_t>();
    auto db = remote_ ? remote_->store().GetDatabase("there") : Result<std::shared_ptr<Database>>(Status::NotFound(""));
    return db.ok() ? (*db)->Info()["doc_count"].get<int64_t>() : int64_t{-1};
  };
  ASSERT_TRUE(WaitUntil([&] { return target_count() > 0; }));
  const int64_t before_drop = target_count();

  // The remote goes away mid-stream, for a while, and comes back on its port.
  const uint16_t port = remote_->port();
  remote.reset();
  remote_.reset();
  if (push) Put(*local, {{"_id", "written-while-down"}});
  auto crashed = [&] {
    const Json jobs = manager_->SchedulerJobs();
    for (const Json& entry : jobs["jobs"][0]["history"]) {
      if (entry.value("type", "") == "crashed") return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitUntil(crashed)) << "the job never noticed that the remote was gone";
  remote_ = std::make_unique<RemoteServer>(remote_dir_, port);
  remote = Remote("there");
  if (!push) Put(*remote, {{"_id", "written-while-down"}});
  const int64_t total = kDocs + 1;
  ASSERT_TRUE(WaitUntil([&] { return target_count() == total; })) << target_count() << " of " << total;

  AllDocsOptions all;
  EXPECT_EQ(local->AllDocs(all)["rows"], remote->AllDocs(all)["rows"]);
  Status local_ok = local->CheckIntegrity();
  Status remote_ok = remote->CheckIntegrity();
  EXPECT_TRUE(local_ok.ok()) << local_ok.ToString();
  EXPECT_TRUE(remote_ok.ok()) << remote_ok.ToString();
  // Read from the checkpoint on, not from the start: a restart from zero
  // would have read everything again on top of what came before the drop.
  const int64_t read = manager_->SchedulerJobs()["jobs"][0]["info"].value("docs_read", int64_t{0});
  EXPECT_LT(read, total + before_drop) << before_drop << " documents had arrived before the drop";
}

INSTANTIATE_TEST_SUITE_P(Directions, MidReplicationDropTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Push" : "Pull"; });

TEST_F(ReplicatorTest, DocumentsTheTargetRefusesAreCountedAsFailuresAndTheRestIsWritten) {
  remote_.reset();
  DatabaseOptions small;
  small.max_document_bytes = 200;
  remote_ = std::make_unique<RemoteServer>(remote_dir_, 0, small);
  auto src = Local("src");
  Put(*src, {{"_id", "small"}});
  Put(*src, {{"_id", "big"}, {"text", std::string(1000, 'x')}});
  Put(*src, {{"_id", "small2"}});

  Json history = ReplicateOk("src", remote_->Url("strict"), {{"create_target", true}});
  EXPECT_EQ(history["docs_read"], 3);
  EXPECT_EQ(history["docs_written"], 2);
  EXPECT_EQ(history["doc_write_failures"], 1);
  EXPECT_FALSE(Get(*Remote("strict"), "small2").is_null());
  EXPECT_TRUE(Get(*Remote("strict"), "big").is_null());
}

TEST_F(ReplicatorTest, OneShotJobFailsAfterItsRetriesWhenTheRemoteStaysDown) {
  const uint16_t port = remote_->port();
  remote_.reset();
  Local("src");
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/never";
  ReplicationManager::Reply r = Replicate({{"source", "src"}, {"target", url}});
  EXPECT_EQ(r.status, 500) << json::Dump(r.body);
  EXPECT_FALSE(json::GetString(r.body, "reason").empty());
}

// --- continuous jobs and the _replicator database -------------------------------

TEST_F(ReplicatorTest, ContinuousJobPicksUpNewWritesUntilCancelled) {
  auto src = Local("src");
  Put(*src, {{"_id", "first"}});
  ReplicationManager::Reply r =
      Replicate({{"source", "src"}, {"target", remote_->Url("live")}, {"continuous", true}, {"create_target", true}});
  ASSERT_EQ(r.status, 202) << json::Dump(r.body);
  const std::string id = json::GetString(r.body, "_local_id");
  EXPECT_NE(id.find("+continuous"), std::string::npos);

  auto arrived = [&](const std::string& doc_id) {
    auto db = remote_->store().GetDatabase("live");
    return db.ok() && !Get(**db, doc_id).is_null();
  };
  ASSERT_TRUE(WaitUntil([&] { return arrived("first"); }));
  Put(*src, {{"_id", "second"}});
  ASSERT_TRUE(WaitUntil([&] { return arrived("second"); }));

  // The counters move just after the write that made the document visible.
  ASSERT_TRUE(WaitUntil([&] {
    const Json jobs = manager_->SchedulerJobs();
    return jobs["total_rows"] == 1 && jobs["jobs"][0]["info"]["docs_written"] == 2;
  }));
  EXPECT_EQ(manager_->SchedulerJobs()["jobs"][0]["id"], id);
  const Json tasks = manager_->ActiveTasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["type"], "replication");
  EXPECT_EQ(tasks[0]["continuous"], true);

  r = Replicate({{"replication_id", id}, {"cancel", true}});
  EXPECT_EQ(r.status, 200) << json::Dump(r.body);
  EXPECT_EQ(manager_->SchedulerJobs()["total_rows"], 0);
}

TEST_F(ReplicatorTest, ReplicatorDocumentsStartAndStopJobs) {
  auto src = Local("src");
  auto replicator = Local("_replicator");
  Put(*src, {{"_id", "one"}});
  Put(*Remote("from_here"), {{"_id", "pulled"}});
  const std::string rev = Put(*replicator, {{"_id", "follow"},
                                            {"source", remote_->Url("from_here", kPassword)},
                                            {"target", "dst"},
                                            {"create_target", true}});
  // A one-shot document completes and says so in the document.
  ASSERT_TRUE(
      WaitUntil([&] { return json::GetString(Get(*replicator, "follow"), "_replication_state") == "completed"; }));
  EXPECT_FALSE(Get(*Local("dst"), "pulled").is_null());
  Result<Json> doc_state = manager_->SchedulerDoc("follow");
  ASSERT_TRUE(doc_state.ok());
  EXPECT_EQ((*doc_state)["state"], "completed");

  // A continuous document runs until it is deleted.
  Put(*replicator,
      {{"_id", "live"}, {"source", "src"}, {"target", "mirror"}, {"continuous", true}, {"create_target", true}});
  auto mirrored = [&](const std::string& id) {
    auto db = store_->GetDatabase("mirror");
    return db.ok() && !Get(**db, id).is_null();
  };
  ASSERT_TRUE(WaitUntil([&] { return mirrored("one"); }));
  Put(*src, {{"_id", "two"}});
  ASSERT_TRUE(WaitUntil([&] { return mirrored("two"); }));
  const Json docs = manager_->SchedulerDocs();
  EXPECT_EQ(docs["total_rows"], 2);
  Result<Json> live = manager_->SchedulerDoc("live");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)["state"], "running");
  EXPECT_EQ((*live)["source"], "src");

  const Json live_doc = Get(*replicator, "live");
  ASSERT_TRUE(replicator->Put({{"_id", "live"}, {"_rev", live_doc["_rev"]}, {"_deleted", true}}).status.ok());
  ASSERT_TRUE(WaitUntil([&] { return manager_->SchedulerJobs()["total_rows"] == 0; }));
  EXPECT_FALSE(manager_->SchedulerDoc("live").ok());
  (void)rev;
}

TEST_F(ReplicatorTest, ContinuousReplicatorDocumentResumesAfterRestartFromItsCheckpoint) {
  auto src = Local("src");
  for (int i = 0; i < 30; ++i) Put(*src, {{"_id", "before" + std::to_string(i)}});
  Put(*Local("_replicator"), {{"_id", "keep"},
                              {"source", "src"},
                              {"target", remote_->Url("kept")},
                              {"continuous", true},
                              {"create_target", true}});
  auto arrived = [&](const std::string& id) {
    auto db = remote_->store().GetDatabase("kept");
    return db.ok() && !Get(**db, id).is_null();
  };
  ASSERT_TRUE(WaitUntil([&] { return arrived("before29"); }));
  ASSERT_TRUE(WaitUntil([&] {
    Result<Json> d = manager_->SchedulerDoc("keep");
    return d.ok() && (*d)["info"].value("checkpointed_source_seq", Json(0)) == src->update_seq();
  }));

  manager_.reset();  // a restart of the server's replicator
  Put(*src, {{"_id", "after"}});
  StartManager();
  ASSERT_TRUE(WaitUntil([&] { return arrived("after"); }));
  ASSERT_TRUE(WaitUntil([&] {
    Result<Json> d = manager_->SchedulerDoc("keep");
    return d.ok() && (*d)["info"].value("checkpointed_source_seq", Json(0)) == src->update_seq();
  }));
  Result<Json> d = manager_->SchedulerDoc("keep");
  ASSERT_TRUE(d.ok());
  // Only the new document was read: the job started from its checkpoint.
  EXPECT_EQ((*d)["info"]["docs_read"], 1);
  EXPECT_EQ((*d)["info"]["revisions_checked"], 1);
}

TEST_F(ReplicatorTest, InvalidReplicatorDocumentIsMarkedFailed) {
  auto replicator = Local("_replicator");
  Put(*replicator, {{"_id", "broken"}, {"source", "src"}});
  ASSERT_TRUE(WaitUntil([&] { return json::GetString(Get(*replicator, "broken"), "_replication_state") == "failed"; }));
  EXPECT_EQ(json::GetString(Get(*replicator, "broken"), "_replication_state_reason"), "Missing replicator database");
  Result<Json> state = manager_->SchedulerDoc("broken");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)["state"], "failed");
}

// --- HTTP: /_replicate, /_scheduler, /_active_tasks ------------------------------

TEST_F(ReplicatorTest, HttpRoutesAreForTheServerAdminWithCouchDbsAnswers) {
  auto router = std::make_shared<http::Router>();
  CouchApiOptions options;
  options.admin_name = kAdmin;
  options.admin_password = kPassword;
  options.replication = manager_.get();
  AddCouchRoutes(*router, *store_, options);
  http::ListenerOptions listener;
  listener.name = "couch";
  listener.router = router;
  listener.render_error = RenderCouchError;
  testing::TestServer server(std::move(listener));
  http::Client client;
  auto call = [&](const std::string& method, const std::string& path, const std::string& body, bool admin) {
    http::ClientRequest r;
    r.method = method;
    r.url = server.base_url() + path;
    r.body = body;
    if (!body.empty()) r.headers.Set("Content-Type", "application/json");
    if (admin) r.headers.Set("Authorization", "Basic " + Base64Encode(std::string(kAdmin) + ":" + kPassword));
    auto response = client.Send(r);
    EXPECT_TRUE(response.ok());
    return response.ok() ? *response : http::ClientResponse{};
  };
  Put(*Local("src"), {{"_id", "x"}});

  http::ClientResponse r =
      call("POST", "/_replicate", R"({"source":"src","target":"dst","create_target":true})", false);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::GetString(*json::Parse(r.body), "reason"), "You are not an authenticated user");
  EXPECT_EQ(call("GET", "/_scheduler/jobs", "", false).status, 401);
  EXPECT_EQ(call("POST", "/_replicate", "[1]", true).status, 400);
  EXPECT_EQ(call("POST", "/_replicate", "{", true).status, 400);

  r = call("POST", "/_replicate", R"({"source":"src","target":"dst","create_target":true})", true);
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = *json::Parse(r.body);
  EXPECT_EQ(body["ok"], true);
  EXPECT_EQ(body["history"][0]["docs_written"], 1);
  EXPECT_FALSE(json::GetString(body, "session_id").empty());

  r = call("GET", "/_scheduler/jobs", "", true);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ((*json::Parse(r.body))["jobs"], Json::array());
  r = call("GET", "/_active_tasks", "", true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(*json::Parse(r.body), Json::array());
  r = call("GET", "/_scheduler/docs", "", true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ((*json::Parse(r.body))["total_rows"], 0);
  r = call("GET", "/_scheduler/docs/_replicator/nothing", "", true);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::GetString(*json::Parse(r.body), "error"), "not_found");
}

}  // namespace
}  // namespace wisp::store
