// store/backup.h: a database of questions (attachments, conflicts,
// deletions) backed up from one store and restored into a fresh one, through
// the same Endpoint API the CLI uses; and how a restore reads the lines of
// wisp's and couchbackup's files.
#include "store/backup.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/client.h"
#include "store/backup_fixture.h"
#include "store/replication_endpoint.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace wisp::store {
namespace {

using testing::ExpectSameDatabases;
using testing::WriteQuestions;

// The issue asks for 50,000 questions, which takes about 35 s here: more
// than a test of `make test` may. The suite runs 10,000;
// WISP_BACKUP_TEST_QUESTIONS=50000 runs the full count (docs/backup.md
// records its time).
int QuestionCount() {
  const char* env = std::getenv("WISP_BACKUP_TEST_QUESTIONS");
  return env != nullptr ? std::atoi(env) : 10000;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = Store::Open(dir_.path() + "/a");
    auto b = Store::Open(dir_.path() + "/b");
    ASSERT_TRUE(a.ok() && b.ok());
    source_store_ = std::move(*a);
    target_store_ = std::move(*b);
    ASSERT_TRUE(source_store_->CreateDatabase("questions").ok());
    source_ = *source_store_->GetDatabase("questions");
  }

  std::unique_ptr<Endpoint> EndpointOf(Store& store, const std::string& db) {
    auto endpoint = MakeEndpoint(Json(db), store, client_, std::chrono::seconds(10));
    EXPECT_TRUE(endpoint.ok());
    return std::move(*endpoint);
  }

  Result<TransferProgress> Backup(const std::string& file, size_t batch_size = 500) {
    BackupOptions options;
    options.file = file;
    options.log = file + ".log";
    options.batch_size = batch_size;
    options.tool_version = "test";
    return BackupDatabase(*EndpointOf(*source_store_, "questions"), options);
  }

  Result<TransferProgress> Restore(const std::string& file, const std::string& db) {
    RestoreOptions options;
    options.file = file;
    options.log = file + ".restore-log";
    return RestoreDatabase(*EndpointOf(*target_store_, db), options);
  }

  std::shared_ptr<Database> Target(const std::string& db) { return *target_store_->GetDatabase(db); }

  wisp::testing::TempDir dir_;
  http::Client client_;
  std::unique_ptr<Store> source_store_;
  std::unique_ptr<Store> target_store_;
  std::shared_ptr<Database> source_;
};

TEST_F(BackupTest, QuestionsWithAttachmentsAndConflictsRoundTrip) {
  const int count = QuestionCount();
  WriteQuestions(*source_, count);
  const std::string file = dir_.path() + "/questions.jsonl";

  const auto start = std::chrono::steady_clock::now();
  Result<TransferProgress> backed_up = Backup(file);
  ASSERT_TRUE(backed_up.ok()) << backed_up.status().ToString();
  const auto middle = std::chrono::steady_clock::now();
  Result<TransferProgress> restored = Restore(file, "copy");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const auto end = std::chrono::steady_clock::now();
  std::printf("%d questions: backup %.2f s, restore %.2f s, file %lld bytes\n", count,
              std::chrono::duration<double>(middle - start).count(),
              std::chrono::duration<double>(end - middle).count(),
              static_cast<long long>(std::filesystem::file_size(file)));

  EXPECT_EQ(backed_up->docs, count);
  // Each 10th question has two extra leaves in place of one.
  EXPECT_EQ(backed_up->revisions, count + (count + 9) / 10);
  EXPECT_EQ(restored->docs, backed_up->revisions);
  EXPECT_FALSE(std::filesystem::exists(file + ".log"));
  EXPECT_FALSE(std::filesystem::exists(file + ".restore-log"));
  ExpectSameDatabases(*source_, *Target("copy"));
}

TEST_F(BackupTest, FileStartsWithCouchbackupsHeaderAndHoldsOneBatchPerLine) {
  WriteQuestions(*source_, 25);
  const std::string file = dir_.path() + "/small.jsonl";
  ASSERT_TRUE(Backup(file, 10).ok());
  std::istringstream lines(ReadFile(file));
  std::string line;
  std::getline(lines, line);
  Result<BackupLine> header = ParseBackupLine(line, 1, false);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->kind, BackupLineKind::kHeader);
  EXPECT_EQ(header->value["mode"], "full");
  EXPECT_EQ(header->value["attachments"], true);
  int batches = 0;
  while (std::getline(lines, line)) {
    Result<Json> docs = json::Parse(line);
    ASSERT_TRUE(docs.ok() && docs->is_array());
    ++batches;
    for (const Json& doc : *docs) {
      EXPECT_TRUE(doc.contains("_rev") && doc.contains("_revisions")) << json::Dump(doc);
      if (!doc.value("_deleted", false)) {
        EXPECT_TRUE(doc["_attachments"]["body.html"].contains("data")) << json::Dump(doc);
        // couchbackup's member name (the Cloudant SDK's), which couchrestore needs.
        EXPECT_EQ(doc["_attachments"]["body.html"]["contentType"], "text/html") << json::Dump(doc);
      }
    }
  }
  EXPECT_EQ(batches, 3);  // 25 documents, 10 a line
}

TEST_F(BackupTest, BackupResumesFromItsLogAndWritesTheSameFile) {
  WriteQuestions(*source_, 120);
  const std::string whole = dir_.path() + "/whole.jsonl";
  ASSERT_TRUE(Backup(whole, 20).ok());

  // An interrupted run: the header, two batches checkpointed, and half a
  // third batch written after the last checkpoint.
  const std::string resumed = dir_.path() + "/resumed.jsonl";
  const std::string text = ReadFile(whole);
  std::vector<size_t> line_ends;
  for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) line_ends.push_back(at + 1);
  ASSERT_GE(line_ends.size(), 4u);
  {
    std::ofstream out(resumed, std::ios::binary);
    out << text.substr(0, line_ends[2]) << text.substr(line_ends[2], 100);
    std::ofstream log(resumed + ".log");
    ChangesOptions first_two_batches;
    first_two_batches.limit = 40;
    const int64_t last_seq = source_->Changes(first_two_batches).last_seq;
    log << json::Dump(Json{{"backup_of", "questions"}}) << "\n"
        << json::Dump(Json{{"batch", 2}, {"since", last_seq}, {"bytes", line_ends[2]}, {"docs", 40}, {"revisions", 44}})
        << "\n{\"batch\":3,\"since";  // a checkpoint cut short
  }
  Result<TransferProgress> done = Backup(resumed, 20);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->resumed);
  EXPECT_EQ(done->docs, 120);
  EXPECT_EQ(ReadFile(resumed), text);
  EXPECT_FALSE(std::filesystem::exists(resumed + ".log"));
}

TEST_F(BackupTest, LogOfAnotherDatabaseIsRefused) {
  WriteQuestions(*source_, 5);
  const std::string file = dir_.path() + "/x.jsonl";
  {
    std::ofstream log(file + ".log");
    log << R"({"backup_of":"other"})"
        << "\n"
        << R"({"batch":1,"since":3,"bytes":10,"docs":3,"revisions":3})"
        << "\n";
  }
  Result<TransferProgress> done = Backup(file);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_NE(done.status().message().find("another backup"), std::string::npos);
}

TEST_F(BackupTest, RestoreResumesAfterTheLastLineItRecorded) {
  WriteQuestions(*source_, 60);
  const std::string file = dir_.path() + "/q.jsonl";
  ASSERT_TRUE(Backup(file, 20).ok());
  // A restore that wrote lines 1-2 (the header and the first batch), then stopped.
  Result<TransferProgress> first = Restore(file, "copy");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(target_store_->DeleteDatabase("copy").ok());
  std::istringstream lines(ReadFile(file));
  std::string line;
  std::getline(lines, line);
  std::getline(lines, line);
  const size_t first_batch = json::Parse(line)->size();
  {
    std::ofstream log(file + ".restore-log");
    log << R"({"restore_into":"copy"})"
        << "\n"
        << Json{{"line", 2}, {"docs", first_batch}}.dump() << "\n";
  }
  Result<TransferProgress> resumed = Restore(file, "copy");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->docs, first->docs);
  // Lines 3 and 4 were written; the skipped first batch (the oldest
  // changes, q1 among them) is not in the database.
  EXPECT_FALSE(Target("copy")->Get(testing::QuestionId(1), GetOptions{}).ok());
  EXPECT_TRUE(Target("copy")->Get(testing::QuestionId(59), GetOptions{}).ok());
}

TEST_F(BackupTest, RestoreRefusesADatabaseThatIsNotEmpty) {
  WriteQuestions(*source_, 3);
  const std::string file = dir_.path() + "/q.jsonl";
  ASSERT_TRUE(Backup(file).ok());
  ASSERT_TRUE(target_store_->CreateDatabase("busy").ok());
  ASSERT_TRUE(Target("busy")->Put({{"_id", "x"}}).status.ok());
  Result<TransferProgress> done = Restore(file, "busy");
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("not empty"), std::string::npos);
}

TEST_F(BackupTest, RestoreReportsTheLineOfADocumentWithoutRev) {
  const std::string file = dir_.path() + "/bad.jsonl";
  std::ofstream(file) << R"([{"_id":"a","_rev":"1-abc","n":1}])"
                      << "\n"
                      << R"([{"_id":"b","n":2}])"
                      << "\n";
  Result<TransferProgress> done = Restore(file, "copy");
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(done.status().message().find("line 2"), std::string::npos) << done.status().message();
  EXPECT_NE(done.status().message().find("has no _rev"), std::string::npos);
}

// --- the lines of couchbackup's files ---------------------------------------

TEST(BackupLine, HeaderIsOnlyRecognisedOnTheFirstLine) {
  const std::string header = R"({"name":"@cloudant/couchbackup","version":"2.11.12","mode":"full"})";
  Result<BackupLine> first = ParseBackupLine(header, 1, false);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->kind, BackupLineKind::kHeader);
  EXPECT_FALSE(ParseBackupLine(header, 2, true).ok());
}

TEST(BackupLine, ResumeMarkersBlankLinesAndCutShortBatchesAreSkipped) {
  EXPECT_EQ(ParseBackupLine(R"({"marker":"@cloudant/couchbackup:resume"})", 5, true)->kind,
            BackupLineKind::kResumeMarker);
  EXPECT_EQ(ParseBackupLine("", 5, true)->kind, BackupLineKind::kBlank);
  EXPECT_EQ(
      ParseBackupLine(R"([{"_id":"a","_rev":"1-x"},{"_id":"b{"marker":"@cloudant/couchbackup:resume"})", 5, true)->kind,
      BackupLineKind::kCutShort);
  // Before couchbackup 2.10 there was no header and no marker.
  EXPECT_EQ(ParseBackupLine(R"([{"_id":"a","_rev)", 7, false)->kind, BackupLineKind::kCutShort);
}

TEST(BackupLine, BrokenJsonInAFileWithAHeaderIsAnErrorNamingTheLine) {
  Result<BackupLine> line = ParseBackupLine(R"([{"_id":"a")", 9, true);
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.status().message().find("line 9"), std::string::npos);
  EXPECT_FALSE(ParseBackupLine(R"([1,2])", 3, true).ok());
  EXPECT_FALSE(ParseBackupLine(R"({"a":1})", 3, true).ok());
}

TEST(BackupLine, ArrayOfDocumentsIsABatch) {
  Result<BackupLine> line = ParseBackupLine("[{\"_id\":\"a\",\"_rev\":\"1-x\"}]\r", 2, true);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->kind, BackupLineKind::kDocs);
  EXPECT_EQ(line->value.size(), 1u);
}

}  // namespace
}  // namespace wisp::store
