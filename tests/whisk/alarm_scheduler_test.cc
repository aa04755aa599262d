// AlarmScheduler driven by a FakeClock: the lifecycle events of the alarms
// feeds, once/interval/cron schedules, start and stop dates, pause, and the
// schedules' persistence and misfire policy across a restart.
#include "whisk/alarm_scheduler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace wisp::whisk {
namespace {

using namespace std::chrono_literals;

class AlarmSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wisp-alarms-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Open();
  }
  void TearDown() override {
    scheduler_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    scheduler_.reset();
    store_.reset();
    auto store = store::Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    scheduler_ = std::make_unique<AlarmScheduler>(
        *store_, clock_, [this](const std::string& trigger, const std::string& key, const Json& payload) {
          std::lock_guard<std::mutex> lock(mu_);
          fired_.push_back({trigger, key, payload, clock_.NowMillis()});
          cv_.notify_all();
        });
    ASSERT_TRUE(scheduler_->Start().ok());
  }
  Json Params(const std::string& event, Json extra = Json::object()) {
    Json p = {{"lifecycleEvent", event}, {"triggerName", "/guest/t"}, {"authKey", "uuid:key"}};
    for (auto& [k, v] : extra.items()) p[k] = v;
    return p;
  }
  // Advances fake time and waits (bounded) until `count` fires happened.
  void AdvanceAndExpect(std::chrono::milliseconds d, size_t count) {
    clock_.Advance(d);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return fired_.size() >= count; });
    EXPECT_EQ(fired_.size(), count);
  }
  size_t Fired() {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_.size();
  }
  int64_t Now() { return clock_.NowMillis(); }

  struct Fire {
    std::string trigger;
    std::string key;
    Json payload;
    int64_t at;
  };
  std::string dir_;
  FakeClock clock_{Clock::WallTime(std::chrono::seconds(1'700'000'000))};  // 2023-11-14T22:13:20Z
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AlarmScheduler> scheduler_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Fire> fired_;
};

TEST_F(AlarmSchedulerTest, CronFiresWithThePayloadAndTheStoredKey) {
  ASSERT_TRUE(
      scheduler_->Handle("alarm", Params("CREATE", {{"cron", "*/10 * * * * *"}, {"trigger_payload", R"({"x":1})"}}))
          .ok());
  AdvanceAndExpect(10s, 1);  // :20 -> :30
  AdvanceAndExpect(10s, 2);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(fired_[0].trigger, "/guest/t");
  EXPECT_EQ(fired_[0].key, "uuid:key");
  EXPECT_EQ(fired_[0].payload, Json::parse(R"({"x":1})"));
}

TEST_F(AlarmSchedulerTest, StringPayloadIsWrapped) {
  ASSERT_TRUE(
      scheduler_->Handle("alarm", Params("CREATE", {{"cron", "* * * * *"}, {"trigger_payload", "hello"}})).ok());
  AdvanceAndExpect(60s, 1);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(fired_[0].payload, Json::parse(R"({"payload":"hello"})"));
}

TEST_F(AlarmSchedulerTest, OnceFiresOnce) {
  ASSERT_TRUE(scheduler_->Handle("once", Params("CREATE", {{"date", Now() + 5000}})).ok());
  AdvanceAndExpect(5s, 1);
  AdvanceAndExpect(1h, 1);
  EXPECT_FALSE(scheduler_->Handle("once", Params("CREATE", {{"date", Now() - 1}})).ok());
}

TEST_F(AlarmSchedulerTest, IntervalStartsThirtySecondsAfterCreationOrAtStartDate) {
  ASSERT_TRUE(scheduler_->Handle("interval", Params("CREATE", {{"minutes", 2}})).ok());
  AdvanceAndExpect(29s, 0);
  AdvanceAndExpect(1s, 1);
  AdvanceAndExpect(2min, 2);
  ASSERT_TRUE(scheduler_->Handle("interval", Params("DELETE")).ok());
  ASSERT_TRUE(scheduler_->Handle("interval", Params("CREATE", {{"minutes", 1}, {"startDate", Now() + 600'000}})).ok());
  AdvanceAndExpect(9min, 2);
  AdvanceAndExpect(1min, 3);
}

TEST_F(AlarmSchedulerTest, StopDateEndsTheScheduleAndMustFollowTheFirstFire) {
  ASSERT_TRUE(
      scheduler_->Handle("alarm", Params("CREATE", {{"cron", "*/10 * * * * *"}, {"stopDate", Now() + 25'000}})).ok());
  AdvanceAndExpect(10s, 1);
  AdvanceAndExpect(10s, 2);
  AdvanceAndExpect(10s, 2);
  Json bad = Params("CREATE", {{"cron", "0 0 1 1 *"}, {"stopDate", Now() + 1000}});
  bad["triggerName"] = "/guest/u";
  Result<Json> refused = scheduler_->Handle("alarm", bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "the first scheduled trigger fire is not until after the stop date");
}

TEST_F(AlarmSchedulerTest, PauseUnpauseReadUpdateDelete) {
  ASSERT_TRUE(scheduler_->Handle("alarm", Params("CREATE", {{"cron", "*/10 * * * * *"}})).ok());
  ASSERT_TRUE(scheduler_->Handle("alarm", Params("PAUSE")).ok());
  Result<Json> read = scheduler_->Handle("alarm", Params("READ"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)["status"]["active"], false);
  EXPECT_EQ((*read)["config"]["cron"], "*/10 * * * * *");
  EXPECT_EQ((*read)["config"]["name"], "t");
  EXPECT_EQ((*read)["config"]["namespace"], "guest");
  AdvanceAndExpect(30s, 0);
  ASSERT_TRUE(scheduler_->Handle("alarm", Params("UNPAUSE")).ok());
  AdvanceAndExpect(10s, 1);
  ASSERT_TRUE(scheduler_->Handle("alarm", Params("UPDATE", {{"cron", "0 * * * *"}})).ok());
  EXPECT_EQ((*scheduler_->Handle("alarm", Params("READ")))["config"]["cron"], "0 * * * *");
  ASSERT_TRUE(scheduler_->Handle("alarm", Params("DELETE")).ok());
  EXPECT_EQ(scheduler_->Handle("alarm", Params("READ")).status().code(), StatusCode::kNotFound);
  AdvanceAndExpect(2h, 1);
}

TEST_F(AlarmSchedulerTest, BadInputIsRefused) {
  EXPECT_FALSE(scheduler_->Handle("alarm", Params("CREATE", {{"cron", "61 * * * *"}})).ok());
  EXPECT_FALSE(scheduler_->Handle("alarm", Params("CREATE")).ok());
  EXPECT_FALSE(scheduler_->Handle("interval", Params("CREATE", {{"minutes", 0}})).ok());
  EXPECT_FALSE(scheduler_->Handle("alarm", Params("CREATE", {{"cron", "* * * * *"}, {"timezone", "No/Where"}})).ok());
  EXPECT_FALSE(scheduler_->Handle("nope", Params("CREATE")).ok());
  Json no_name = Params("CREATE", {{"cron", "* * * * *"}});
  no_name.erase("triggerName");
  EXPECT_FALSE(scheduler_->Handle("alarm", no_name).ok());
}

TEST_F(AlarmSchedulerTest, SchedulesSurviveARestartAndAMissedFireFiresOnce) {
  ASSERT_TRUE(scheduler_->Handle("alarm", Params("CREATE", {{"cron", "* * * * *"}})).ok());
  scheduler_->Stop();
  clock_.Advance(10min);  // down through ten scheduled fires
  Open();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return !fired_.empty(); });
  }
  EXPECT_EQ(Fired(), 1u);
  AdvanceAndExpect(60s, 2);  // and it is armed again
  Result<Json> read = scheduler_->Handle("alarm", Params("READ"));
  EXPECT_TRUE(read.ok()) << read.status().ToString();
}

}  // namespace
}  // namespace wisp::whisk
