// Acknowledged writes survive kill -9: 32 clients write through the real
// binary, the process is killed mid-stream, and after a restart every write
// that got its 201 is there, and the file passes its integrity checks.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "http/client.h"
#include "store/database.h"
#include "testing/notification.h"
#include "testing/subprocess.h"
#include "util/base64.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;

constexpr char kAdmin[] = "admin:durable";

int CouchPort(Subprocess& p) {
  std::smatch m;
  const std::string line = p.ReadLineContaining("CouchDB API", 20s);
  if (std::regex_search(line, m, std::regex(R"(:(\d+)/)"))) return std::stoi(m[1]);
  return -1;
}

std::unique_ptr<Subprocess> StartWisp(const std::string& dir, int* port) {
  auto p = std::make_unique<Subprocess>(std::vector<std::string>{WISP_BINARY, "serve", "--data-dir", dir, "--api-port",
                                                                 "0", "--couch-port", "0", "--admin", kAdmin,
                                                                 "--log-level", "warn"},
                                        dir + "/stderr.txt");
  *port = CouchPort(*p);
  return p;
}

http::ClientRequest Request(const std::string& method, const std::string& url, std::string body = "") {
  http::ClientRequest r;
  r.method = method;
  r.url = url;
  r.body = std::move(body);
  r.headers.Set("Authorization", "Basic " + Base64Encode(kAdmin));
  r.headers.Set("Content-Type", "application/json");
  r.timeout = 10s;
  return r;
}

TEST(Durability, AcknowledgedWritesSurviveKillNine) {
  char tmpl[] = "/tmp/wisp-durable-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  int port = -1;
  auto wisp = StartWisp(dir, &port);
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  http::Client setup;
  auto created = setup.Send(Request("PUT", base + "/durable"));
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 201) << created->body;
  // A Mango index, so that CheckIntegrity() also proves its keys survive with the documents.
  auto indexed = setup.Send(Request("POST", base + "/durable/_index", R"({"index":{"fields":["payload"]}})"));
  ASSERT_TRUE(indexed.ok());
  ASSERT_EQ(indexed->status, 200) << indexed->body;

  constexpr int kClients = 32;
  std::mutex mu;
  std::set<std::string> acknowledged;  // GUARDED_BY(mu)
  std::atomic<int> acks{0};
  testing::Notification enough;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      http::Client client;
      for (int i = 0; !stop; ++i) {
        const std::string id = "c" + std::to_string(c) + "-" + std::to_string(i);
        auto r = client.Send(Request("PUT", base + "/durable/" + id, R"({"payload":"question body )" + id + R"("})"));
        if (!r.ok()) break;  // the server is gone
        if (r->status == 201) {
          std::lock_guard lock(mu);
          acknowledged.insert(id);
          if (++acks == 1000) enough.Notify();
        }
      }
    });
  }
  ASSERT_TRUE(enough.WaitFor(120s)) << "only " << acks.load() << " writes acknowledged";
  kill(wisp->pid(), SIGKILL);  // while all 32 clients are mid-write
  EXPECT_EQ(wisp->Wait(10s), 128 + SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();

  wisp = StartWisp(dir, &port);
  ASSERT_GT(port, 0);
  const std::string again = "http://127.0.0.1:" + std::to_string(port);
  http::Client reader;
  size_t found = 0;
  std::vector<std::string> lost;
  for (const std::string& id : acknowledged) {
    auto r = reader.Send(Request("GET", again + "/durable/" + id));
    if (r.ok() && r->status == 200) ++found;
    else lost.push_back(id);
  }
  EXPECT_EQ(found, acknowledged.size()) << lost.size() << " acknowledged writes lost, e.g. "
                                        << (lost.empty() ? "" : lost.front());
  EXPECT_EQ(wisp->Signal(SIGTERM, 10s), 0);

  // With the server stopped, the file itself must be sound.
  auto db = store::Database::Open(dir + "/dbs/durable.sqlite", "durable");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Status integrity = (*db)->CheckIntegrity();
  EXPECT_TRUE(integrity.ok()) << integrity.ToString();
  EXPECT_GE((*db)->Info()["doc_count"].get<int64_t>(), static_cast<int64_t>(acknowledged.size()));
  db->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wisp
