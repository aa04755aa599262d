// The controller against a real store in a temporary directory, with a
// scripted runtime for kind `native`: parameter precedence and `final`,
// sequences, activation records, the status mapping and the throttles.
#include "whisk/controller.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "util/log.h"
#include "whisk/builtin_runtime.h"

namespace wisp::whisk {
namespace {

using namespace std::chrono_literals;

// A runtime whose outcome the test decides; it records what it was asked.
class ScriptedRuntime final : public ActionRuntime {
 public:
  std::function<RunOutcome(const ActionCode&, const RunRequest&)> script = [](const ActionCode&, const RunRequest& r) {
    RunOutcome o;
    o.result = r.value;
    return o;
  };

  RunOutcome Run(const ActionCode& code, const RunRequest& request) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      codes.push_back(code);
      requests.push_back(request);
    }
    return script(code, request);
  }

  void Retire(const std::string& action, const std::string& current_digest) override {
    std::lock_guard<std::mutex> lock(mu);
    retired.emplace_back(action, current_digest);
  }

  std::mutex mu;
  std::vector<ActionCode> codes;
  std::vector<RunRequest> requests;
  std::vector<std::pair<std::string, std::string>> retired;  // {action, current digest}
};

// Holds every Run() until Open().
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wisp-whisk-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto store = store::Store::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    RegisterUtilsCatalog(builtin_);
    Make(ControllerOptions{});
  }
  void TearDown() override {
    controller_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Make(ControllerOptions options) {
    controller_.reset();
    controller_ = std::make_unique<Controller>(*store_, options);
    controller_->SetRuntime("builtin", &builtin_);
    controller_->SetRuntime("native", &native_);
    controller_->SetBuiltinNames(UtilsCatalogNames());
    ASSERT_TRUE(controller_->Start().ok());
  }
  void PutNative(const std::string& name, Json extra = Json::object()) {
    Json body = {{"exec", {{"kind", "native"}, {"code", "#!/bin/sh"}}}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    Result<EntityName> n = ParseFullyQualifiedName("/guest/" + name, "guest");
    ASSERT_TRUE(n.ok());
    Result<Json> put = controller_->PutAction(guest_, *n, body, false);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  Result<InvokeReply> Invoke(const std::string& name, Json payload = Json::object(), bool blocking = true) {
    Result<EntityName> n = ParseFullyQualifiedName("/guest/" + name, "guest");
    if (!n.ok()) return n.status();
    InvokeOptions options;
    options.blocking = blocking;
    options.trace_id = "trace-1";
    return controller_->Invoke(guest_, *n, std::move(payload), options);
  }
  Json Record(const std::string& id) {
    Result<Json> record = controller_->GetActivation(guest_, "guest", id);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? *record : Json();
  }
  static Json Annotations(const Json& record) { return KeyValuesToObject(record.value("annotations", Json::array())); }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  BuiltinRuntime builtin_;
  ScriptedRuntime native_;
  std::unique_ptr<Controller> controller_;
  Identity guest_{"guest", "guest", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502", std::string(64, 'k')};
};

TEST_F(ControllerTest, ParametersLayerPackageBindingActionInvoke) {
  ASSERT_TRUE(controller_
                  ->PutPackage(guest_, "guest", "pkg",
                               Json::parse(R"({"parameters":[{"key":"a","value":"pkg"},{"key":"b","value":"pkg"},
                                 {"key":"c","value":"pkg"},{"key":"d","value":"pkg"}]})"),
                               false)
                  .ok());
  ASSERT_TRUE(controller_
                  ->PutPackage(guest_, "guest", "bound", Json::parse(R"({"binding":{"namespace":"_","name":"pkg"},
                                 "parameters":[{"key":"b","value":"binding"},{"key":"c","value":"binding"}]})"),
                               false)
                  .ok());
  PutNative("pkg/act", Json::parse(R"({"parameters":[{"key":"c","value":"action"},{"key":"d","value":"action"},
                                       {"key":"secret","value":"s","init":true}]})"));
  Result<InvokeReply> reply = Invoke("bound/act", Json::parse(R"({"d":"invoke"})"));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  ASSERT_EQ(native_.requests.size(), 1u);
  EXPECT_EQ(native_.requests[0].value, Json::parse(R"({"a":"pkg","b":"binding","c":"action","d":"invoke"})"));
  EXPECT_EQ(native_.codes[0].init_env, Json::parse(R"({"secret":"s"})"));
  EXPECT_EQ(native_.requests[0].action_name, "/guest/pkg/act");
  EXPECT_EQ(native_.requests[0].transaction_id, "trace-1");
  const Json annotations = Annotations(Record(reply->activation_id));
  EXPECT_EQ(annotations["path"], "guest/pkg/act");
  EXPECT_EQ(annotations["binding"], "guest/bound");
}

TEST_F(ControllerTest, FinalParametersCannotBeOverridden) {
  PutNative("locked", Json::parse(R"({"parameters":[{"key":"k","value":1}],
                                      "annotations":[{"key":"final","value":true}]})"));
  Result<InvokeReply> reply = Invoke("locked", Json::parse(R"({"k":2})"));
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(reply.status().IsInvalidArgument());
  EXPECT_EQ(reply.status().message(), "Request defines parameters that are not allowed (e.g., reserved properties).");
  EXPECT_TRUE(Invoke("locked", Json::parse(R"({"other":2})")).ok());
}

TEST_F(ControllerTest, ApiKeyOnlyWithProvideApiKey) {
  PutNative("nokey");
  PutNative("withkey", Json::parse(R"({"annotations":[{"key":"provide-api-key","value":true}]})"));
  ASSERT_TRUE(Invoke("nokey").ok());
  ASSERT_TRUE(Invoke("withkey").ok());
  ASSERT_EQ(native_.requests.size(), 2u);
  EXPECT_FALSE(native_.requests[0].api_key.has_value());
  EXPECT_EQ(native_.requests[1].api_key.value_or(""), guest_.Credential());
}

TEST_F(ControllerTest, RecordCarriesEveryAnnotationAndInitTimeOnlyWhenCold) {
  PutNative("act", Json::parse(R"({"limits":{"timeout":1000}})"));
  native_.script = [](const ActionCode&, const RunRequest&) {
    RunOutcome o;
    o.result = {{"ok", true}};
    o.cold = true;
    o.init_time = 7ms;
    o.wait_time = 3ms;
    o.start = Clock::WallTime(std::chrono::milliseconds(1'000'000));
    o.end = o.start + 20ms;
    o.logs = {"2026-01-01T00:00:00.000000000Z stdout: hi"};
    return o;
  };
  Result<InvokeReply> cold = Invoke("act");
  ASSERT_TRUE(cold.ok());
  EXPECT_EQ(cold->body["logs"], Json::array());
  const Json record = Record(cold->activation_id);
  EXPECT_EQ(record["namespace"], "guest");
  EXPECT_EQ(record["subject"], "guest");
  EXPECT_EQ(record["start"], 1'000'000);
  EXPECT_EQ(record["end"], 1'000'020);
  EXPECT_EQ(record["duration"], 20);
  EXPECT_EQ(record["trace_id"], "trace-1");
  EXPECT_EQ(record["logs"].size(), 1u);
  EXPECT_EQ(record["response"]["statusCode"], 0);
  const Json a = Annotations(record);
  EXPECT_EQ(a["initTime"], 7);
  EXPECT_GE(a["waitTime"].get<int64_t>(), 3);
  EXPECT_EQ(a["kind"], "native");
  EXPECT_EQ(a["path"], "guest/act");
  EXPECT_EQ(a["timeout"], false);
  EXPECT_EQ(a["limits"], Json::parse(R"({"timeout":1000,"memory":256,"logs":10,"concurrency":1})"));

  native_.script = [](const ActionCode&, const RunRequest&) { return RunOutcome{}; };
  Result<InvokeReply> warm = Invoke("act");
  ASSERT_TRUE(warm.ok());
  EXPECT_FALSE(Annotations(Record(warm->activation_id)).contains("initTime"));
}

TEST_F(ControllerTest, StatusCodesMapTo200And502And500) {
  PutNative("act");
  const auto answer = [&](ActivationStatus status) {
    native_.script = [status](const ActionCode&, const RunRequest&) {
      RunOutcome o;
      o.status = status;
      o.result = {{"error", "boom"}};
      o.timeout = status == ActivationStatus::kDeveloperError;
      return o;
    };
    Result<InvokeReply> reply = Invoke("act");
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? *reply : InvokeReply{};
  };
  EXPECT_EQ(answer(ActivationStatus::kApplicationError).status, 502);
  const InvokeReply developer = answer(ActivationStatus::kDeveloperError);
  EXPECT_EQ(developer.status, 502);
  EXPECT_EQ(developer.body["response"]["status"], "action developer error");
  EXPECT_EQ(Annotations(Record(developer.activation_id))["timeout"], true);
  EXPECT_EQ(answer(ActivationStatus::kWhiskError).status, 500);
}

TEST_F(ControllerTest, SequenceChainsResultsAndStopsAtAnError) {
  PutNative("one");
  PutNative("fails");
  PutNative("never");
  native_.script = [](const ActionCode& code, const RunRequest& r) {
    RunOutcome o;
    o.result = r.value;
    if (code.pool_key.rfind("/guest/one@", 0) == 0) o.result["one"] = true;
    if (code.pool_key.rfind("/guest/fails@", 0) == 0) {
      o.status = ActivationStatus::kApplicationError;
      o.result = {{"error", "stop here"}};
    }
    return o;
  };
  ASSERT_TRUE(
      controller_
          ->PutAction(guest_, *ParseFullyQualifiedName("/_/seq", "guest"),
                      Json::parse(R"({"exec":{"kind":"sequence","components":["/_/one","/_/fails","/_/never"]}})"),
                      false)
          .ok());
  Result<InvokeReply> reply = Invoke("seq", Json::parse(R"({"x":1})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 502);
  ASSERT_EQ(native_.requests.size(), 2u);
  EXPECT_EQ(native_.requests[1].value, Json::parse(R"({"x":1,"one":true})"));
  const Json record = Record(reply->activation_id);
  EXPECT_EQ(record["response"]["result"], Json::parse(R"({"error":"stop here"})"));
  ASSERT_EQ(record["logs"].size(), 2u);
  EXPECT_EQ(reply->body["logs"], record["logs"]) << "a blocking sequence answers with its record";
  EXPECT_EQ(Annotations(record)["topmost"], true);
  EXPECT_EQ(Annotations(record)["kind"], "sequence");
  for (const Json& id : record["logs"]) {
    const Json component = Record(id.get<std::string>());
    EXPECT_EQ(component["cause"], reply->activation_id);
    EXPECT_EQ(Annotations(component)["causedBy"], "sequence");
  }
}

TEST_F(ControllerTest, SequenceComponentsCarryTheInvokesTraceId) {
  PutNative("first");
  PutNative("second");
  ASSERT_TRUE(controller_
                  ->PutAction(guest_, *ParseFullyQualifiedName("/_/traced", "guest"),
                              Json::parse(R"({"exec":{"kind":"sequence","components":["/_/first","/_/second"]}})"),
                              false)
                  .ok());
  Result<InvokeReply> reply = Invoke("traced");
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(native_.requests.size(), 2u);
  for (const RunRequest& request : native_.requests) EXPECT_EQ(request.transaction_id, "trace-1");
  const Json record = Record(reply->activation_id);
  EXPECT_EQ(record["trace_id"], "trace-1");
  for (const Json& id : record["logs"]) EXPECT_EQ(Record(id.get<std::string>())["trace_id"], "trace-1");
}

TEST_F(ControllerTest, RuntimesLearnTheCodeDigestAndLetGoOfEarlierVersions) {
  const std::string v1 = "#!/bin/sh";
  const std::string v2 = "#!/bin/sh\n# version 2";
  PutNative("act");
  ASSERT_FALSE(native_.retired.empty());
  EXPECT_EQ(native_.retired.back(), std::make_pair(std::string("guest/act"), ContentDigest(false, v1)));
  ASSERT_TRUE(Invoke("act").ok());
  EXPECT_EQ(native_.codes.back().action, "guest/act");
  EXPECT_EQ(native_.codes.back().digest, ContentDigest(false, v1));
  EXPECT_EQ(native_.codes.back().code.view(), v1);

  const EntityName name = *ParseFullyQualifiedName("/_/act", "guest");
  ASSERT_TRUE(controller_->PutAction(guest_, name, Json{{"exec", {{"kind", "native"}, {"code", v2}}}}, true).ok());
  EXPECT_EQ(native_.retired.back(), std::make_pair(std::string("guest/act"), ContentDigest(false, v2)));
  ASSERT_TRUE(Invoke("act").ok());
  EXPECT_EQ(native_.codes.back().digest, ContentDigest(false, v2));
  EXPECT_EQ(native_.codes.back().code.view(), v2);

  ASSERT_TRUE(controller_->DeleteAction(guest_, name).ok());
  EXPECT_EQ(native_.retired.back(), std::make_pair(std::string("guest/act"), std::string()));
  EXPECT_NE(ContentDigest(false, v1), ContentDigest(true, v1)) << "binary and text code never share a digest";
}

TEST_F(ControllerTest, NestedSequencesLinkEachComponentToItsParent) {
  PutNative("leaf");
  const EntityName inner = *ParseFullyQualifiedName("/_/inner", "guest");
  const EntityName outer = *ParseFullyQualifiedName("/_/outer", "guest");
  ASSERT_TRUE(
      controller_
          ->PutAction(guest_, inner, Json::parse(R"({"exec":{"kind":"sequence","components":["/_/leaf"]}})"), false)
          .ok());
  ASSERT_TRUE(controller_
                  ->PutAction(guest_, outer,
                              Json::parse(R"({"exec":{"kind":"sequence","components":["/_/inner","/_/leaf"]}})"), false)
                  .ok());
  Result<InvokeReply> reply = Invoke("outer");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
  const Json record = Record(reply->activation_id);
  ASSERT_EQ(record["logs"].size(), 2u);
  const Json nested = Record(record["logs"][0].get<std::string>());
  EXPECT_EQ(nested["cause"], reply->activation_id);
  EXPECT_EQ(Annotations(nested)["topmost"], false);
  EXPECT_EQ(Annotations(nested)["causedBy"], "sequence");
  ASSERT_EQ(nested["logs"].size(), 1u);
  EXPECT_EQ(Record(nested["logs"][0].get<std::string>())["cause"], nested["activationId"]);
}

TEST_F(ControllerTest, SequenceLengthIsLimitedAndSelfReferenceRefused) {
  ControllerOptions options;
  options.sequence_max_length = 2;
  Make(options);
  PutNative("a");
  const EntityName seq = *ParseFullyQualifiedName("/_/seq", "guest");
  Result<Json> too_long = controller_->PutAction(
      guest_, seq, Json::parse(R"({"exec":{"kind":"sequence","components":["/_/a","/_/a","/_/a"]}})"), false);
  EXPECT_EQ(too_long.status().message(), "Too many actions in the sequence.");
  Result<Json> self = controller_->PutAction(
      guest_, seq, Json::parse(R"({"exec":{"kind":"sequence","components":["/_/seq"]}})"), false);
  EXPECT_EQ(self.status().message(), "Sequence may not refer to itself.");
  Result<Json> empty =
      controller_->PutAction(guest_, seq, Json::parse(R"({"exec":{"kind":"sequence","components":[]}})"), false);
  EXPECT_EQ(empty.status().message(), "No component specified for the sequence.");
}

TEST_F(ControllerTest, UpdateMergesAnnotationsReplacesParametersAndBumpsVersion) {
  PutNative("act", Json::parse(R"({"parameters":[{"key":"p","value":1}],"annotations":[{"key":"x","value":1}]})"));
  const EntityName name = *ParseFullyQualifiedName("/_/act", "guest");
  Result<Json> updated = controller_->PutAction(
      guest_, name, Json::parse(R"({"parameters":[{"key":"q","value":2}],"annotations":[{"key":"y","value":2}]})"),
      true);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)["version"], "0.0.2");
  EXPECT_EQ((*updated)["parameters"], Json::parse(R"([{"key":"q","value":2}])"));
  const Json a = KeyValuesToObject((*updated)["annotations"]);
  EXPECT_EQ(a, Json::parse(R"({"x":1,"y":2,"exec":"native","provide-api-key":false})"));
  EXPECT_EQ((*updated)["exec"]["binary"], false);
}

TEST_F(ControllerTest, OneNameTablePerNamespace) {
  PutNative("taken");
  Result<Json> trigger = controller_->PutTrigger(guest_, "guest", "taken", Json::object(), false);
  EXPECT_TRUE(trigger.status().IsConflict());
  EXPECT_EQ(trigger.status().message(), kWrongCollectionText);
  Result<Json> again = controller_->PutAction(guest_, *ParseFullyQualifiedName("/_/taken", "guest"),
                                              Json::parse(R"({"exec":{"kind":"native","code":"x"}})"), false);
  EXPECT_EQ(again.status().message(), kExistsText);
  Result<Json> other_ns = controller_->PutAction(guest_, *ParseFullyQualifiedName("/other/x", "guest"),
                                                 Json::parse(R"({"exec":{"kind":"native","code":"x"}})"), false);
  EXPECT_TRUE(other_ns.status().IsPermissionDenied());
}

TEST_F(ControllerTest, BlockingWaitElapsedAnswers202AndTheRecordFollows) {
  PutNative("slow");
  Gate gate;
  native_.script = [&gate](const ActionCode&, const RunRequest&) {
    gate.Wait();
    return RunOutcome{};
  };
  InvokeOptions options;
  options.blocking = true;
  options.wait = 1ms;
  Result<InvokeReply> reply =
      controller_->Invoke(guest_, *ParseFullyQualifiedName("/_/slow", "guest"), Json::object(), options);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 202);
  EXPECT_EQ(reply->body, Json({{"activationId", reply->activation_id}}));
  gate.Open();
  controller_->Drain();
  EXPECT_EQ(Record(reply->activation_id)["response"]["statusCode"], 0);
}

TEST_F(ControllerTest, StopWaitingAnswersBlockedInvokes202) {
  PutNative("slow");
  Gate gate;
  native_.script = [&gate](const ActionCode&, const RunRequest&) {
    gate.Wait();
    return RunOutcome{};
  };
  Result<InvokeReply> reply = Status::Internal("not run");
  std::thread waiter([&] { reply = Invoke("slow"); });  // a 60 s blocking wait
  controller_->StopWaiting();
  waiter.join();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 202);
  gate.Open();
  controller_->Drain();
  EXPECT_EQ(Record(reply->activation_id)["response"]["statusCode"], 0);
}

TEST_F(ControllerTest, InvokeAsyncReturnsAtOnceAndAnswersWhenTheActivationEnds) {
  PutNative("slow");
  Gate gate;
  native_.script = [&gate](const ActionCode&, const RunRequest&) {
    gate.Wait();
    RunOutcome outcome;
    outcome.result = {{"done", true}};
    return outcome;
  };
  std::mutex mu;
  std::condition_variable answered;
  std::optional<InvokeReply> reply;  // GUARDED_BY(mu)
  InvokeOptions options;
  options.blocking = true;
  options.result_only = true;
  // Returns while the activation is held: nothing waits on this thread.
  ASSERT_TRUE(controller_
                  ->InvokeAsync(guest_, *ParseFullyQualifiedName("/_/slow", "guest"), Json::object(), options,
                                [&](InvokeReply r) {
                                  std::lock_guard<std::mutex> lock(mu);
                                  reply = std::move(r);
                                  answered.notify_all();
                                })
                  .ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(reply.has_value());
  }
  gate.Open();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(answered.wait_for(lock, 10s, [&] { return reply.has_value(); }));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, Json({{"done", true}}));
  EXPECT_EQ(Record(reply->activation_id)["response"]["result"], Json({{"done", true}}));
}

TEST_F(ControllerTest, InvokeAsyncThatCannotStartNeverAnswers) {
  bool answered = false;
  InvokeOptions options;
  options.blocking = true;
  const Status started = controller_->InvokeAsync(guest_, *ParseFullyQualifiedName("/_/missing", "guest"),
                                                  Json::object(), options, [&](InvokeReply) { answered = true; });
  EXPECT_TRUE(started.IsNotFound()) << started.ToString();
  EXPECT_FALSE(answered);
}

TEST_F(ControllerTest, ConcurrentInvocationsAreThrottled) {
  ControllerOptions options;
  options.concurrent_invocations = 1;
  Make(options);
  PutNative("slow");
  Gate gate;
  native_.script = [&gate](const ActionCode&, const RunRequest&) {
    gate.Wait();
    return RunOutcome{};
  };
  Result<InvokeReply> first = Invoke("slow", Json::object(), /*blocking=*/false);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 202);
  Result<InvokeReply> second = Invoke("slow", Json::object(), /*blocking=*/false);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsResourceExhausted());
  EXPECT_EQ(second.status().message(), "Too many concurrent requests in flight (count: 2, allowed: 1).");
  gate.Open();
  controller_->Drain();
  EXPECT_TRUE(Invoke("slow").ok());
}

// The value of one sample of `registry`, or -1 when it is not there.
double SampleValue(const MetricsRegistry& registry, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const MetricSample& s : registry.Samples()) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return -1;
}

TEST_F(ControllerTest, MetricsCountEachRecordByActionKindAndStatusAndTheThrottle) {
  MetricsRegistry metrics;
  ControllerOptions options;
  options.concurrent_invocations = 1;
  options.metrics = &metrics;
  Make(options);
  PutNative("work", Json::parse(R"({"limits":{"memory":512}})"));
  int runs = 0;
  native_.script = [&runs](const ActionCode&, const RunRequest& r) {
    RunOutcome o;
    o.start = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    o.end = o.start + std::chrono::seconds(2);
    o.cold = runs++ == 0;
    o.init_time = std::chrono::milliseconds(o.cold ? 300 : 0);
    if (r.value.value("fail", false)) {
      o.status = ActivationStatus::kApplicationError;
      o.result = {{"error", "told to"}};
    }
    return o;
  };
  ASSERT_TRUE(Invoke("work").ok());
  ASSERT_TRUE(Invoke("work").ok());
  ASSERT_TRUE(Invoke("work", Json{{"fail", true}}).ok());
  controller_->Drain();

  const std::string action = "guest/work";
  EXPECT_EQ(SampleValue(metrics, "wisp_activations_total",
                        {{"action", action}, {"kind", "native"}, {"status", "success"}}), 2);
  EXPECT_EQ(SampleValue(metrics, "wisp_activations_total",
                        {{"action", action}, {"kind", "native"}, {"status", "application_error"}}), 1);
  EXPECT_EQ(SampleValue(metrics, "wisp_activation_duration_seconds_count", {{"action", action}}), 3);
  EXPECT_EQ(SampleValue(metrics, "wisp_activation_duration_seconds_sum", {{"action", action}}), 6);
  EXPECT_EQ(SampleValue(metrics, "wisp_activation_cold_starts_total", {{"action", action}}), 1);
  EXPECT_EQ(SampleValue(metrics, "wisp_activation_init_seconds_sum", {{"action", action}}), 0.3);
  // 512 MB for 2 s, three times.
  EXPECT_EQ(SampleValue(metrics, "wisp_action_gigabyte_seconds_total", {{"action", action}}), 0.5 * 2 * 3);
  EXPECT_EQ(SampleValue(metrics, "wisp_activations_in_flight", {{"namespace", "guest"}}), 0);

  // A second invoke while one is in flight is refused, and counted.
  Gate gate;
  native_.script = [&gate](const ActionCode&, const RunRequest&) {
    gate.Wait();
    return RunOutcome{};
  };
  ASSERT_TRUE(Invoke("work", Json::object(), /*blocking=*/false).ok());
  EXPECT_EQ(SampleValue(metrics, "wisp_activations_in_flight", {{"namespace", "guest"}}), 1);
  EXPECT_FALSE(Invoke("work", Json::object(), /*blocking=*/false).ok());
  EXPECT_EQ(SampleValue(metrics, "wisp_throttled_total", {{"namespace", "guest"}, {"reason", "concurrency"}}), 1);
  gate.Open();
  controller_->Drain();
  EXPECT_EQ(SampleValue(metrics, "wisp_activations_in_flight", {{"namespace", "guest"}}), 0);
}

TEST_F(ControllerTest, UtilsCatalogIsPublishedAndRunsBuiltIns) {
  Result<Json> package = controller_->GetPackage(guest_, "whisk.system", "utils");
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ((*package)["publish"], true);
  EXPECT_EQ((*package)["actions"].size(), UtilsCatalogNames().size());
  InvokeOptions options;
  options.blocking = true;
  options.result_only = true;
  Result<InvokeReply> reply = controller_->Invoke(
      guest_, *ParseFullyQualifiedName("/whisk.system/utils/namespace", "guest"), Json::object(), options);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->body, Json::parse(R"({"namespace":"guest"})"));
  Result<Json> private_list = controller_->ListActions(guest_, "whisk.system", "", ListOptions{});
  EXPECT_TRUE(private_list.status().IsPermissionDenied());
}

TEST_F(ControllerTest, AnEditOfTheStoredDocumentIsSeenByTheNextInvoke) {
  PutNative("act", Json::parse(R"({"parameters":[{"key":"p","value":1}]})"));
  ASSERT_TRUE(Invoke("act").ok());
  // As a CouchDB admin would edit it on port 5984.
  auto db = store_->GetDatabase(kEntitiesDb);
  ASSERT_TRUE(db.ok());
  Result<Json> doc = (*db)->Get("guest/act", {});
  ASSERT_TRUE(doc.ok());
  (*doc)["parameters"] = Json::parse(R"([{"key":"p","value":2}])");
  ASSERT_TRUE((*db)->Put(*doc).status.ok());
  ASSERT_TRUE(Invoke("act").ok());
  ASSERT_EQ(native_.requests.size(), 2u);
  EXPECT_EQ(native_.requests[0].value, Json::parse(R"({"p":1})"));
  EXPECT_EQ(native_.requests[1].value, Json::parse(R"({"p":2})"));
}

TEST_F(ControllerTest, BuiltinLogsFollowTheLogLimit) {
  const EntityName name = *ParseFullyQualifiedName("/_/quiet-sort", "guest");
  ASSERT_TRUE(controller_
                  ->PutAction(guest_, name,
                              Json::parse(R"({"exec":{"kind":"builtin","code":"sort"},"limits":{"logs":0}})"), false)
                  .ok());
  Result<InvokeReply> reply = Invoke("quiet-sort", Json::parse(R"({"lines":["b","a"]})"));
  ASSERT_TRUE(reply.ok());
  const Json logs = Record(reply->activation_id)["logs"];
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(logs[0].get<std::string>().find(
                " stderr: Logs were truncated because the total bytes size exceeds the limit of 0 bytes."),
            std::string::npos);
  Result<InvokeReply> loud = Invoke("loud", Json::object());
  EXPECT_TRUE(loud.status().IsNotFound());
}

// --- triggers, rules and fires ------------------------------------------------

class FireTest : public ControllerTest {
 protected:
  void PutTrigger(const std::string& name, Json body = Json::object()) {
    Result<Json> put = controller_->PutTrigger(guest_, "guest", name, body, false);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  void PutRule(const std::string& name, const std::string& trigger, const std::string& action) {
    Result<Json> put = controller_->PutRule(
        guest_, "guest", name, Json{{"trigger", "/guest/" + trigger}, {"action", "/guest/" + action}}, false);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  Result<std::optional<std::string>> Fire(const std::string& trigger, Json payload, Json headers = Json()) {
    return controller_->FireTrigger(guest_, "guest", trigger, std::move(payload), headers, "fire-trace");
  }
  std::vector<Json> Logs(const Json& record) {
    std::vector<Json> out;
    for (const Json& line : record.value("logs", Json::array())) out.push_back(Json::parse(line.get<std::string>()));
    return out;
  }
};

TEST_F(FireTest, NoActiveRuleIsNoActivation) {
  PutTrigger("t");
  Result<std::optional<std::string>> fired = Fire("t", Json::object());
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_FALSE(fired->has_value());
  PutNative("a");
  PutRule("r", "t", "a");
  ASSERT_TRUE(controller_->SetRuleStatus(guest_, "guest", "r", Json{{"status", "inactive"}}).ok());
  fired = Fire("t", Json::object());
  ASSERT_TRUE(fired.ok());
  EXPECT_FALSE(fired->has_value());
  controller_->Drain();
  EXPECT_TRUE(native_.requests.empty());
}

TEST_F(FireTest, EachActiveRuleInvokesItsActionWithMergedArgumentsAndTheTraceId) {
  PutTrigger("t", Json::parse(R"({"parameters":[{"key":"p","value":"trigger"},{"key":"q","value":"trigger"}]})"));
  PutNative("a");
  PutNative("b");
  PutRule("r1", "t", "a");
  PutRule("r2", "t", "b");
  Result<std::optional<std::string>> fired = Fire("t", Json::parse(R"({"q":"payload"})"), Json{{"x-custom", "h"}});
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  ASSERT_TRUE(fired->has_value());
  controller_->Drain();
  ASSERT_EQ(native_.requests.size(), 2u);
  for (const RunRequest& request : native_.requests) {
    EXPECT_EQ(request.value, Json::parse(R"({"p":"trigger","q":"payload","__ow_headers":{"x-custom":"h"}})"));
    EXPECT_EQ(request.transaction_id, "fire-trace");
  }
  const Json record = Record(**fired);
  EXPECT_EQ(record["name"], "t");
  EXPECT_EQ(record["trace_id"], "fire-trace");
  EXPECT_EQ(record["response"]["result"], Json::parse(R"({"q":"payload"})"));
  EXPECT_EQ(record["annotations"], Json::array());
  EXPECT_FALSE(ExtendedActivation(record).contains("end"));
  const std::vector<Json> logs = Logs(record);
  ASSERT_EQ(logs.size(), 2u);
  std::set<std::string> actions;
  for (const Json& line : logs) {
    EXPECT_EQ(line["statusCode"], 0);
    EXPECT_EQ(line["success"], true);
    actions.insert(line["action"].get<std::string>());
    const Json caused = Record(line["activationId"].get<std::string>());
    EXPECT_EQ(caused["trace_id"], "fire-trace");
    EXPECT_EQ("guest/" + caused["name"].get<std::string>(), line["action"]);
    EXPECT_EQ(line["rule"], line["action"] == "guest/a" ? "guest/r1" : "guest/r2");
  }
  EXPECT_EQ(actions, (std::set<std::string>{"guest/a", "guest/b"}));
}

TEST_F(FireTest, ARuleWhoseActionIsGoneLogsTheError) {
  PutTrigger("t");
  PutNative("a");
  PutRule("r", "t", "a");
  ASSERT_TRUE(controller_->DeleteAction(guest_, EntityName{"guest", "", "a"}).ok());
  Result<std::optional<std::string>> fired = Fire("t", Json::object());
  ASSERT_TRUE(fired.ok());
  ASSERT_TRUE(fired->has_value());
  controller_->Drain();
  const std::vector<Json> logs = Logs(Record(**fired));
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0]["statusCode"], 1);
  EXPECT_EQ(logs[0]["success"], false);
  EXPECT_EQ(logs[0]["error"], "The requested resource does not exist.");
  EXPECT_FALSE(logs[0].contains("activationId"));
}

TEST_F(FireTest, FiresAreThrottledPerMinute) {
  ControllerOptions options;
  options.fires_per_minute = 2;
  Make(options);
  PutTrigger("t");
  PutNative("a");
  PutRule("r", "t", "a");
  EXPECT_TRUE(Fire("t", Json::object()).ok());
  EXPECT_TRUE(Fire("t", Json::object()).ok());
  Result<std::optional<std::string>> third = Fire("t", Json::object());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  controller_->Drain();
}

TEST_F(FireTest, BadPayloadAndMissingTrigger) {
  EXPECT_EQ(Fire("nope", Json::object()).status().code(), StatusCode::kNotFound);
  PutTrigger("t");
  EXPECT_EQ(Fire("t", Json::array()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FireTest, RuleStatusLivesOnTheTriggerAndRuleOutlivesIt) {
  PutTrigger("t");
  PutNative("a");
  PutRule("r", "t", "a");
  EXPECT_EQ(controller_->GetRule(guest_, "guest", "r")->value("status", ""), "active");
  ASSERT_TRUE(controller_->DeleteTrigger(guest_, "guest", "t").ok());
  EXPECT_EQ(controller_->GetRule(guest_, "guest", "r")->value("status", ""), "inactive");
  EXPECT_EQ(controller_->SetRuleStatus(guest_, "guest", "r", Json{{"status", "active"}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(controller_->DeleteRule(guest_, "guest", "r").ok());
}

// --- logs, traces and retention ------------------------------------------------

// Lines written while activations run, to a log file at debug level.
class ActivationLogTest : public ControllerTest {
 protected:
  void SetUp() override {
    ControllerTest::SetUp();
    log::Options options;
    options.level = log::Level::kDebug;
    options.file = dir_ + "/wisp.log";
    ASSERT_TRUE(log::Configure(options).ok());
  }
  void TearDown() override {
    ASSERT_TRUE(log::Configure(log::Options{}).ok());
    ControllerTest::TearDown();
  }
  // Every line of the log file, each parsed (a line that is not a JSON
  // object fails the test).
  std::vector<Json> Lines() {
    std::vector<Json> lines;
    std::ifstream in(dir_ + "/wisp.log");
    for (std::string text; std::getline(in, text);) {
      Result<Json> line = json::ParseObject(text);
      EXPECT_TRUE(line.ok()) << text;
      if (line.ok()) lines.push_back(*line);
    }
    return lines;
  }
  // The one line whose msg is `msg`.
  Json Line(const std::string& msg) {
    Json found;
    for (const Json& line : Lines()) {
      for (const char* key : {"ts", "level", "module", "msg"}) EXPECT_TRUE(line.contains(key)) << line.dump();
      if (line.value("msg", "") == msg) {
        EXPECT_TRUE(found.is_null()) << "twice: " << msg;
        found = line;
      }
    }
    EXPECT_FALSE(found.is_null()) << "no line " << msg;
    return found;
  }
};

TEST_F(ActivationLogTest, LinesInsideAnActivationNameItAndNestedInvokesNameTheirOwn) {
  PutNative("outer");
  PutNative("inner");
  std::string inner_id;
  native_.script = [&](const ActionCode& code, const RunRequest& request) {
    RunOutcome o;
    if (code.action == "guest/inner") {
      log::Info("test", "inside inner");
      return o;
    }
    log::Info("test", "inside outer");
    // An in-process invoke from inside the activation: it runs on another
    // pool thread, and its record names this activation as its parent.
    Result<InvokeReply> inner = Invoke("inner");
    if (inner.ok()) inner_id = inner->activation_id;
    log::Info("test", "after inner");
    return o;
  };
  log::Info("test", "before");
  Result<InvokeReply> outer = Invoke("outer");  // a native action: runs on the invoker pool
  ASSERT_TRUE(outer.ok()) << outer.status().ToString();
  log::Info("test", "after");
  controller_->Drain();
  ASSERT_FALSE(inner_id.empty());

  for (const char* msg : {"inside outer", "after inner"}) {
    const Json line = Line(msg);
    EXPECT_EQ(line["trace_id"], "trace-1") << msg;
    EXPECT_EQ(line["activation_id"], outer->activation_id) << msg;
    EXPECT_EQ(line["action"], "guest/outer") << msg;
  }
  const Json inner_line = Line("inside inner");
  EXPECT_EQ(inner_line["trace_id"], "trace-1");
  EXPECT_EQ(inner_line["activation_id"], inner_id);
  EXPECT_EQ(inner_line["action"], "guest/inner");
  for (const char* msg : {"before", "after"}) {
    const Json line = Line(msg);
    for (const char* key : {"trace_id", "activation_id", "action"}) EXPECT_FALSE(line.contains(key)) << msg;
  }
  // The controller's own line at the end of each activation carries it too.
  int finished = 0;
  for (const Json& line : Lines()) {
    if (line.value("msg", "") != "activation finished") continue;
    ++finished;
    EXPECT_TRUE(line["activation_id"] == outer->activation_id || line["activation_id"] == inner_id) << line.dump();
    EXPECT_EQ(line["status"], "success");
  }
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(Record(inner_id)["parent_id"], outer->activation_id);
  EXPECT_FALSE(Record(outer->activation_id).contains("parent_id"));
}

TEST_F(ControllerTest, TheApiViewHidesTheParentLink) {
  PutNative("outer");
  PutNative("inner");
  std::string inner_id;
  native_.script = [&](const ActionCode& code, const RunRequest&) {
    if (code.action == "guest/outer") {
      Result<InvokeReply> inner = Invoke("inner");
      if (inner.ok()) inner_id = inner->activation_id;
    }
    return RunOutcome{};
  };
  ASSERT_TRUE(Invoke("outer").ok());
  ASSERT_FALSE(inner_id.empty());
  const Json stored = Record(inner_id);
  ASSERT_TRUE(stored.contains("parent_id"));
  EXPECT_FALSE(ExtendedActivation(stored).contains("parent_id"));
}

TEST_F(FireTest, TheTraceOfAFireIsTriggerRuleAndAction) {
  PutTrigger("t");
  PutNative("a");
  PutRule("r", "t", "a");
  Result<std::optional<std::string>> fired = Fire("t", Json::object());
  ASSERT_TRUE(fired.ok() && fired->has_value());
  controller_->Drain();
  const std::vector<Json> lines = Logs(Record(**fired));
  ASSERT_EQ(lines.size(), 1u);
  const std::string action_id = lines[0]["activationId"];
  EXPECT_EQ(Record(action_id)["parent_id"], **fired);

  for (const std::string& id : {std::string("fire-trace"), **fired, action_id}) {
    Result<Json> trace = controller_->GetTrace(guest_, "guest", id);
    ASSERT_TRUE(trace.ok()) << id << ": " << trace.status().ToString();
    EXPECT_EQ((*trace)["trace_id"], "fire-trace");
    EXPECT_EQ((*trace)["activations"], 2);
    ASSERT_EQ((*trace)["roots"].size(), 1u);
    const Json& trigger = (*trace)["roots"][0];
    EXPECT_EQ(trigger["type"], "trigger");
    EXPECT_EQ(trigger["activationId"], **fired);
    EXPECT_EQ(trigger["name"], "guest/t");
    const Json& rule = trigger["children"][0];
    EXPECT_EQ(rule["rule"], "guest/r");
    EXPECT_EQ(rule["children"][0]["activationId"], action_id);
    EXPECT_EQ(rule["children"][0]["name"], "guest/a");
  }
  EXPECT_TRUE(controller_->GetTrace(guest_, "guest", "no-such-trace").status().IsNotFound());
  Identity other{"other", "other", "7bc46b1f-71f6-4ed5-8c54-816aa4f8c502", std::string(64, 'o')};
  EXPECT_FALSE(controller_->GetTrace(other, "guest", "fire-trace").ok());
}

TEST_F(ControllerTest, RecordsOlderThanTheRetentionAreSweptAsTheClockMoves) {
  FakeClock clock;
  ControllerOptions options;
  options.activation_retention = std::chrono::hours(1);
  controller_.reset();
  controller_ = std::make_unique<Controller>(*store_, options, clock);
  controller_->SetRuntime("native", &native_);
  ASSERT_TRUE(controller_->Start().ok());
  ASSERT_TRUE(controller_->WaitForSweeps(1, 10s));  // the first sweep runs at start
  PutNative("act");
  Result<InvokeReply> old_one = Invoke("act");
  ASSERT_TRUE(old_one.ok());

  clock.Advance(30min);  // a sweep is due (every 6 min for 1 h), nothing is old enough
  ASSERT_TRUE(controller_->WaitForSweeps(2, 10s));
  EXPECT_TRUE(controller_->GetActivation(guest_, "guest", old_one->activation_id).ok());
  Result<InvokeReply> new_one = Invoke("act");
  ASSERT_TRUE(new_one.ok());

  clock.Advance(31min);
  ASSERT_TRUE(controller_->WaitForSweeps(3, 10s));
  EXPECT_TRUE(controller_->GetActivation(guest_, "guest", old_one->activation_id).status().IsNotFound());
  EXPECT_TRUE(controller_->GetActivation(guest_, "guest", new_one->activation_id).ok());
  ActivationQuery all;
  Result<Json> listed = controller_->ListActivations(guest_, "guest", all, false, true);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)["activations"], 1);
  controller_.reset();  // before the clock it reads goes
}

TEST_F(ControllerTest, WithoutRetentionNothingIsSwept) {
  EXPECT_FALSE(controller_->WaitForSweeps(1, 0ms));
  EXPECT_EQ(controller_->ExpireActivations(), 0u);
}

// --- secret parameters (secrets.h, docs/security.md "Secrets") --------------

constexpr char kSlackUrl[] = "https://hooks.slack.com/services/T000/B000/s3cr3tw3bh00k";
constexpr char kToken[] = "tok-4f1d2e9a77";

TEST_F(FireTest, SecretParametersAreMaskedInEntityAnswersButReachTheAction) {
  // Known names (slackURL) and names an annotation marks (token).
  Result<Json> package = controller_->PutPackage(
      guest_, "guest", "so",
      Json{{"parameters", Json::array({{{"key", "slackURL"}, {"value", kSlackUrl}}, {{"key", "site"}, {"value", "so"}}})}},
      false);
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ(KeyValue((*package)["parameters"], "slackURL"), "********") << "the PUT answer";
  EXPECT_EQ(KeyValue((*package)["parameters"], "site"), "so");
  PutNative("so/notify", Json{{"parameters", Json::array({{{"key", "token"}, {"value", kToken}}})},
                              {"annotations", Json::array({{{"key", "secret-parameters"}, {"value", Json::array({"token"})}}})}});
  PutTrigger("tick", Json{{"parameters", Json::array({{{"key", "apikey"}, {"value", "se-key-123456"}}})}});

  const Json got_package = *controller_->GetPackage(guest_, "guest", "so");
  EXPECT_EQ(KeyValue(got_package["parameters"], "slackURL"), "********");
  Result<EntityName> name = ParseFullyQualifiedName("/guest/so/notify", "guest");
  const Json got_action = *controller_->GetAction(guest_, *name, true);
  EXPECT_EQ(KeyValue(got_action["parameters"], "token"), "********");
  EXPECT_EQ(KeyValue(got_action["parameters"], "slackURL"), "********") << "inherited from the package";
  EXPECT_EQ(KeyValue(controller_->GetTrigger(guest_, "guest", "tick")->at("parameters"), "apikey"), "********");
  const std::string answers = got_package.dump() + got_action.dump();
  EXPECT_EQ(answers.find(kSlackUrl), std::string::npos);
  EXPECT_EQ(answers.find(kToken), std::string::npos);

  // The action itself gets the real values.
  Result<InvokeReply> reply = Invoke("so/notify");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  std::lock_guard<std::mutex> lock(native_.mu);
  ASSERT_FALSE(native_.requests.empty());
  EXPECT_EQ(native_.requests.back().value["slackURL"], kSlackUrl);
  EXPECT_EQ(native_.requests.back().value["token"], kToken);
}

TEST_F(FireTest, AnUpdateThatSendsTheMaskBackKeepsTheSecret) {
  PutNative("a", Json{{"parameters", Json::array({{{"key", "password"}, {"value", "hunter2-long"}},
                                                  {{"key", "user"}, {"value", "ada"}}})}});
  Result<EntityName> name = ParseFullyQualifiedName("/guest/a", "guest");
  Json shown = *controller_->GetAction(guest_, *name, true);
  ASSERT_EQ(KeyValue(shown["parameters"], "password"), "********");
  // A client that reads, edits another field and writes everything back.
  SetKeyValue(shown["parameters"], "user", "grace");
  ASSERT_TRUE(controller_->PutAction(guest_, *name, Json{{"parameters", shown["parameters"]}}, true).ok());
  ASSERT_TRUE(Invoke("a").ok());
  std::lock_guard<std::mutex> lock(native_.mu);
  EXPECT_EQ(native_.requests.back().value["password"], "hunter2-long");
  EXPECT_EQ(native_.requests.back().value["user"], "grace");
}

TEST_F(FireTest, ActivationRecordsAndInvokeAnswersNeverHoldASecret) {
  // The action echoes its arguments, logs its secret and fails with it.
  native_.script = [](const ActionCode&, const RunRequest& r) {
    RunOutcome o;
    o.status = ActivationStatus::kApplicationError;
    o.result = {{"error", "cannot post to " + r.value.value("slackURL", "") + ": 404"}, {"args", r.value}};
    o.logs = {"2026-11-28T01:02:03.000000000Z stdout: posting to " + r.value.value("slackURL", "")};
    return o;
  };
  ASSERT_TRUE(controller_
                  ->PutPackage(guest_, "guest", "so",
                               Json{{"parameters", Json::array({{{"key", "slackURL"}, {"value", kSlackUrl}}})}}, false)
                  .ok());
  PutNative("so/notify");
  Result<InvokeReply> reply = Invoke("so/notify", Json{{"store_password", "pa55w0rd-xyz"}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  const std::string answered = reply->body.dump();
  EXPECT_EQ(answered.find(kSlackUrl), std::string::npos) << answered;
  EXPECT_NE(answered.find("cannot post to ********: 404"), std::string::npos) << answered;

  const Json record = Record(reply->activation_id);
  const std::string stored = record.dump();
  EXPECT_EQ(stored.find(kSlackUrl), std::string::npos) << stored;
  EXPECT_EQ(stored.find("pa55w0rd-xyz"), std::string::npos) << stored;
  EXPECT_EQ(record["response"]["result"]["args"]["store_password"], "********");
  EXPECT_NE(record["logs"][0].get<std::string>().find("posting to ********"), std::string::npos);

  // A trigger's record holds its payload: masked too.
  PutTrigger("t");
  PutRule("r", "t", "so/notify");
  Result<std::optional<std::string>> fired = Fire("t", Json{{"apikey", "se-key-123456"}});
  ASSERT_TRUE(fired.ok() && fired->has_value());
  controller_->Drain();
  const std::string trigger_record = Record(**fired).dump();
  EXPECT_EQ(trigger_record.find("se-key-123456"), std::string::npos) << trigger_record;
}

}  // namespace
}  // namespace wisp::whisk
