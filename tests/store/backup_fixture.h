// Databases of questions for the backup tests: each question has an
// attachment, every 10th has a conflicting branch and every 50th is deleted,
// and a comparison of two databases by every leaf of every document.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "json/json.h"
#include "store/database.h"
#include "util/base64.h"

namespace wisp::store::testing {

inline std::string QuestionId(int i) { return "q" + std::to_string(100000 + i); }

inline Json Question(int i) {
  return {{"_id", QuestionId(i)},
          {"type", "question"},
          {"owner", nullptr},
          {"status", "new"},
          {"notes", Json::array()},
          {"question",
           {{"question_id", 100000 + i},
            {"title", "How do I back up question " + std::to_string(i) + " &amp; keep its conflicts?"},
            {"tags", {"couchdb", "openwhisk"}},
            {"score", i % 7}}},
          {"_attachments",
           {{"body.html",
             {{"content_type", "text/html"},
              {"data", Base64Encode("<p>body of question " + std::to_string(i) + "</p>")}}}}}};
}

// Writes `count` questions into `db`, in batches, with the conflicts and
// deletions described above.
inline void WriteQuestions(Database& db, int count) {
  constexpr int kBatch = 1000;
  for (int first = 0; first < count; first += kBatch) {
    std::vector<Json> docs;
    for (int i = first; i < std::min(count, first + kBatch); ++i) docs.push_back(Question(i));
    std::vector<WriteResult> written = db.BulkDocs(std::move(docs), /*new_edits=*/true);
    std::vector<Json> edits;
    for (size_t k = 0; k < written.size(); ++k) {
      ASSERT_TRUE(written[k].status.ok()) << written[k].status.ToString();
      const int i = first + static_cast<int>(k);
      const std::string rev = written[k].rev;
      const std::string hash = rev.substr(rev.find('-') + 1);
      if (i % 10 == 0) {
        // A branch from another replica: generation 2 beside the local one.
        Json other = Question(i);
        other["owner"] = "someone-else";
        other["_rev"] = "2-" + std::string(32, 'a' + i % 6);
        other["_revisions"] = {{"start", 2}, {"ids", {std::string(32, 'a' + i % 6), hash}}};
        edits.push_back(std::move(other));
        Json local = Question(i);
        local["owner"] = "me";
        local["_rev"] = "2-" + std::string(32, '0' + i % 10);
        local["_revisions"] = {{"start", 2}, {"ids", {std::string(32, '0' + i % 10), hash}}};
        edits.push_back(std::move(local));
      } else if (i % 50 == 25) {
        edits.push_back({{"_id", QuestionId(i)},
                         {"_rev", "2-" + std::string(32, 'f')},
                         {"_revisions", {{"start", 2}, {"ids", {std::string(32, 'f'), hash}}}},
                         {"_deleted", true}});
      }
    }
    for (const WriteResult& w : db.BulkDocs(std::move(edits), /*new_edits=*/false)) {
      ASSERT_TRUE(w.status.ok()) << w.id << ": " << w.status.ToString();
    }
  }
}

// Every leaf of document `id` (with its history and its attachments' bytes
// and digests), in rev order.
inline Json Leaves(Database& db, const std::string& id) {
  GetOptions options;
  options.revs = true;
  options.attachments = true;
  Result<Json> found = db.OpenRevs(id, {}, options);
  if (!found.ok()) return Json();
  Json leaves = Json::object();
  for (Json& item : *found) {
    if (item.contains("ok")) leaves[json::GetString(item["ok"], "_rev")] = std::move(item["ok"]);
  }
  return leaves;
}

// Expects `copy` to hold exactly the documents of `original`: the same
// counts and, for each document, the same leaves with the same bodies,
// histories and attachments.
inline void ExpectSameDatabases(Database& original, Database& copy) {
  Json a = original.Info();
  Json b = copy.Info();
  EXPECT_EQ(a["doc_count"], b["doc_count"]);
  EXPECT_EQ(a["doc_del_count"], b["doc_del_count"]);
  ChangesOptions all;
  all.all_docs_style = true;
  ChangesPage changes = original.Changes(all);
  int mismatches = 0;
  for (const Json& change : changes.results) {
    const std::string id = json::GetString(change, "id");
    if (Leaves(original, id) != Leaves(copy, id) && ++mismatches <= 3) {
      ADD_FAILURE() << id << " differs:\n" << json::Dump(Leaves(original, id)) << "\n" << json::Dump(Leaves(copy, id));
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace wisp::store::testing
