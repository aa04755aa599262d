#include "util/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/ids.h"

namespace wisp::log {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::MatchesRegex;

constexpr char kTs[] = "2026-11-27T22:30:00.123Z";

// Parses a formatted line, failing the test when it is not a JSON object.
json ParseLine(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
  EXPECT_TRUE(j.is_object()) << line;
  return j;
}

// The keys of a JSON object in the order the text lists them.
std::vector<std::string> KeysInOrder(const std::string& line) {
  std::vector<std::string> keys;
  [[maybe_unused]] json parsed_line = json::parse(line, [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key) keys.push_back(parsed.get<std::string>());
    return true;
  });
  return keys;
}

// --- FormatLine ---

TEST(FormatLineTest, MatchesTheDocumentedExampleExactly) {
  EXPECT_EQ(FormatLine(kTs, Level::kInfo, "http", "listening", {{"port", 3233}, {"tls", false}}),
            R"({"ts":"2026-11-27T22:30:00.123Z","level":"info","module":"http","msg":"listening","port":3233,"tls":false})");
}

TEST(FormatLineTest, WithoutFieldsHasOnlyTheFixedKeys) {
  const std::string line = FormatLine(kTs, Level::kWarn, "store", "compacting", {});
  json j = ParseLine(line);
  EXPECT_EQ(j.size(), 4u);
  EXPECT_EQ(j["ts"], kTs);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["module"], "store");
  EXPECT_EQ(j["msg"], "compacting");
  EXPECT_THAT(KeysInOrder(line), ElementsAre("ts", "level", "module", "msg"));
}

TEST(FormatLineTest, EachLevelIsNamed) {
  EXPECT_EQ(ParseLine(FormatLine(kTs, Level::kTrace, "m", "x", {}))["level"], "trace");
  EXPECT_EQ(ParseLine(FormatLine(kTs, Level::kDebug, "m", "x", {}))["level"], "debug");
  EXPECT_EQ(ParseLine(FormatLine(kTs, Level::kError, "m", "x", {}))["level"], "error");
}

TEST(FormatLineTest, EscapesQuotesAndBackslashes) {
  const std::string msg = R"(say "hi" to C:\path\)";
  const std::string line = FormatLine(kTs, Level::kInfo, "m", msg, {{"q", "\"quoted\""}});
  EXPECT_EQ(ParseLine(line)["msg"], msg);
  EXPECT_EQ(ParseLine(line)["q"], "\"quoted\"");
}

TEST(FormatLineTest, EscapesNewlinesSoALineStaysOneLine) {
  const std::string msg = "first\nsecond\r\nthird";
  const std::string line = FormatLine(kTs, Level::kInfo, "m", msg, {{"stack", "a\nb"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("msg":"first\nsecond\r\nthird")"));
  EXPECT_EQ(ParseLine(line)["msg"], msg);
  EXPECT_EQ(ParseLine(line)["stack"], "a\nb");
}

TEST(FormatLineTest, EscapesEveryControlCharacter) {
  std::string msg;
  for (int c = 0; c < 0x20; ++c) msg.push_back(static_cast<char>(c));
  const std::string line = FormatLine(kTs, Level::kInfo, "m", msg, {});
  for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in line";
  EXPECT_THAT(line, ::testing::HasSubstr(R"(\u0000\u0001)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"(\b\t\n\u000b\f\r)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"(\u001f)"));
  EXPECT_EQ(ParseLine(line)["msg"], msg);
}

TEST(FormatLineTest, EscapesModuleAndFieldKeys) {
  const std::string line = FormatLine(kTs, Level::kInfo, "mo\"d", "x", {{"k\"e\ny", 1}});
  json j = ParseLine(line);
  EXPECT_EQ(j["module"], "mo\"d");
  EXPECT_EQ(j["k\"e\ny"], 1);
}

TEST(FormatLineTest, KeepsValidUtf8AsIs) {
  const std::string msg = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // café € 😀
  const std::string line = FormatLine(kTs, Level::kInfo, "m", msg, {});
  EXPECT_THAT(line, ::testing::HasSubstr(msg));
  EXPECT_EQ(ParseLine(line)["msg"], msg);
}

TEST(FormatLineTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  // A lone continuation byte, a truncated sequence, an overlong '/', and a UTF-16 surrogate.
  const std::string line =
      FormatLine(kTs, Level::kInfo, "m", "a\x80z", {{"path", "/x\xC3"}, {"o", "\xC0\xAF"}, {"s", "\xED\xA0\x80"}});
  json j = ParseLine(line);
  EXPECT_EQ(j["msg"], "a\xEF\xBF\xBDz");
  EXPECT_EQ(j["path"], "/x\xEF\xBF\xBD");
  EXPECT_EQ(j["o"], "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(j["s"], "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(AppendJsonEscapedTest, KeepsUtf8BoundaryCodePointsAndRejectsIllFormedOnes) {
  auto escape = [](std::string_view s) {
    std::string out;
    AppendJsonEscaped(out, s);
    return out;
  };
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(escape("\xC2\x80"), "\xC2\x80");                  // U+0080
  EXPECT_EQ(escape("\xED\x9F\xBF"), "\xED\x9F\xBF");          // U+D7FF, just below the surrogates
  EXPECT_EQ(escape("\xEF\xBF\xBF"), "\xEF\xBF\xBF");          // U+FFFF
  EXPECT_EQ(escape("\xF0\x90\x80\x80"), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(escape("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(escape("\xE0\x80\x80"), r + r + r);                // overlong U+0000
  EXPECT_EQ(escape("\xF0\x80\x80\x80"), r + r + r + r);         // overlong
  EXPECT_EQ(escape("\xF4\x90\x80\x80"), r + r + r + r);         // above U+10FFFF
  EXPECT_EQ(escape("\xF5\xFF"), r + r);                         // never-valid bytes
  EXPECT_EQ(escape("\xE2\x82"), r + r);                         // truncated at end
  EXPECT_EQ(escape("\xE2\x82x"), r + r + "x");                  // truncated before ASCII
}

TEST(FormatLineTest, WritesFieldsOfEveryType) {
  const std::string owned = "owned";
  const std::string_view view = "view";
  const std::string line = FormatLine(kTs, Level::kInfo, "m", "x",
                                      {{"literal", "lit"},
                                       {"string", owned},
                                       {"view", view},
                                       {"temporary", std::string("temp")},
                                       {"int", 42},
                                       {"negative", -7},
                                       {"size", size_t{12}},
                                       {"max", std::numeric_limits<int64_t>::max()},
                                       {"min", std::numeric_limits<int64_t>::min()},
                                       {"short", static_cast<short>(3)},
                                       {"yes", true},
                                       {"no", false},
                                       {"double", 0.1},
                                       {"float", 2.5f},
                                       {"whole", 3.0}});
  json j = ParseLine(line);
  EXPECT_EQ(j["literal"], "lit");
  EXPECT_EQ(j["string"], "owned");
  EXPECT_EQ(j["view"], "view");
  EXPECT_EQ(j["temporary"], "temp");
  EXPECT_EQ(j["int"], 42);
  EXPECT_EQ(j["negative"], -7);
  EXPECT_EQ(j["size"], 12);
  EXPECT_EQ(j["max"].get<int64_t>(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(j["min"].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(j["short"], 3);
  EXPECT_EQ(j["yes"], true);
  EXPECT_EQ(j["no"], false);
  EXPECT_EQ(j["double"].get<double>(), 0.1);  // %.17g round-trips exactly
  EXPECT_EQ(j["float"].get<double>(), 2.5);
  EXPECT_EQ(j["whole"].get<double>(), 3.0);
  EXPECT_THAT(KeysInOrder(line), ElementsAre("ts", "level", "module", "msg", "literal", "string", "view",
                                             "temporary", "int", "negative", "size", "max", "min", "short",
                                             "yes", "no", "double", "float", "whole"));
}

TEST(FormatLineTest, WritesNonFiniteDoublesAsNull) {
  const std::string line = FormatLine(kTs, Level::kInfo, "m", "x",
                                      {{"nan", std::nan("")},
                                       {"inf", std::numeric_limits<double>::infinity()},
                                       {"ninf", -std::numeric_limits<double>::infinity()}});
  EXPECT_THAT(line, ::testing::HasSubstr(R"("nan":null,"inf":null,"ninf":null)"));
  json j = ParseLine(line);
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_TRUE(j["inf"].is_null());
  EXPECT_TRUE(j["ninf"].is_null());
}

TEST(FormatLineTest, RoundTripsExtremeDoubles) {
  const double values[] = {1e300, -1e-300, std::numeric_limits<double>::denorm_min(), 123456.789};
  for (double v : values) {
    json j = ParseLine(FormatLine(kTs, Level::kInfo, "m", "x", {{"v", v}}));
    EXPECT_EQ(j["v"].get<double>(), v);
  }
}

// --- LogContext ---

TEST(LogContextTest, AddsFieldsToLinesWhileAlive) {
  {
    LogContext ctx({{"trace_id", "t1"}, {"attempt", 2}});
    const std::string line = FormatLine(kTs, Level::kInfo, "m", "x", {{"own", true}});
    json j = ParseLine(line);
    EXPECT_EQ(j["trace_id"], "t1");
    EXPECT_EQ(j["attempt"], 2);
    // Context fields come before the line's own fields.
    EXPECT_THAT(KeysInOrder(line), ElementsAre("ts", "level", "module", "msg", "trace_id", "attempt", "own"));
  }
  EXPECT_EQ(ParseLine(FormatLine(kTs, Level::kInfo, "m", "x", {})).size(), 4u);
}

TEST(LogContextTest, NestedContextsAppendInnerFieldsAfterOuterAndPopThem) {
  LogContext outer({{"trace_id", "t1"}});
  {
    LogContext inner({{"activation_id", "a1"}, {"action", "guest/hello"}});
    EXPECT_THAT(KeysInOrder(FormatLine(kTs, Level::kInfo, "m", "x", {})),
                ElementsAre("ts", "level", "module", "msg", "trace_id", "activation_id", "action"));
  }
  const std::string line = FormatLine(kTs, Level::kInfo, "m", "x", {});
  EXPECT_THAT(KeysInOrder(line), ElementsAre("ts", "level", "module", "msg", "trace_id"));
  EXPECT_EQ(ParseLine(line)["trace_id"], "t1");
}

TEST(LogContextTest, GetReturnsInnermostValue) {
  EXPECT_EQ(LogContext::Get("trace_id"), "");
  LogContext outer({{"trace_id", "outer"}, {"user", "alice"}});
  EXPECT_EQ(LogContext::Get("trace_id"), "outer");
  {
    LogContext inner({{"trace_id", "inner"}});
    EXPECT_EQ(LogContext::Get("trace_id"), "inner");
    EXPECT_EQ(LogContext::Get("user"), "alice");
  }
  EXPECT_EQ(LogContext::Get("trace_id"), "outer");
}

TEST(LogContextTest, GetReturnsEmptyForMissingKey) {
  LogContext ctx({{"trace_id", "t"}});
  EXPECT_EQ(LogContext::Get("activation_id"), "");
}

TEST(LogContextTest, GetReturnsEmptyForNonStringValue) {
  LogContext ctx({{"attempt", 3}});
  EXPECT_EQ(LogContext::Get("attempt"), "");
}

TEST(LogContextTest, EmptyContextChangesNothing) {
  LogContext outer({{"trace_id", "t"}});
  { LogContext empty({}); }
  EXPECT_EQ(LogContext::Get("trace_id"), "t");
}

TEST(LogContextTest, ContextBelongsToItsThread) {
  LogContext ctx({{"trace_id", "main"}});
  std::string seen_get = "unset";
  std::string seen_line;
  std::thread other([&] {
    seen_get = LogContext::Get("trace_id");
    seen_line = FormatLine(kTs, Level::kInfo, "m", "x", {});
  });
  other.join();
  EXPECT_EQ(seen_get, "");
  EXPECT_FALSE(ParseLine(seen_line).contains("trace_id"));
}

// --- Levels ---

TEST(LevelTest, ParseLevelAcceptsEveryName) {
  const std::pair<const char*, Level> cases[] = {{"trace", Level::kTrace}, {"debug", Level::kDebug},
                                                 {"info", Level::kInfo},   {"warn", Level::kWarn},
                                                 {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& [name, level] : cases) {
    Level parsed = Level::kInfo;
    EXPECT_TRUE(ParseLevel(name, &parsed)) << name;
    EXPECT_EQ(parsed, level) << name;
    EXPECT_EQ(LevelName(level), name);
  }
}

TEST(LevelTest, ParseLevelRejectsUnknownNameAndLeavesOutputUntouched) {
  Level parsed = Level::kError;
  EXPECT_FALSE(ParseLevel("verbose", &parsed));
  EXPECT_FALSE(ParseLevel("", &parsed));
  EXPECT_FALSE(ParseLevel("info ", &parsed));
  EXPECT_EQ(parsed, Level::kError);
}

// --- Configure, Enabled, Write ---

class LogConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("wisp_log_test_" + NewId());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "wisp.log").string();
  }

  void TearDown() override {
    ASSERT_TRUE(Configure(Options{}).ok());  // back to standard error at info
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::vector<std::string> ReadLines() const {
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(LogConfigTest, DefaultOptionsEnableInfoAndAbove) {
  ASSERT_TRUE(Configure(Options{}).ok());
  EXPECT_FALSE(Enabled(Level::kTrace, "http"));
  EXPECT_FALSE(Enabled(Level::kDebug, "http"));
  EXPECT_TRUE(Enabled(Level::kInfo, "http"));
  EXPECT_TRUE(Enabled(Level::kWarn, "http"));
  EXPECT_TRUE(Enabled(Level::kError, "http"));
}

TEST_F(LogConfigTest, PerModuleLevelOverridesTheDefault) {
  Options options;
  options.level = Level::kWarn;
  options.module_levels = {{"http", Level::kDebug}, {"store", Level::kOff}};
  ASSERT_TRUE(Configure(options).ok());

  EXPECT_TRUE(Enabled(Level::kDebug, "http"));
  EXPECT_FALSE(Enabled(Level::kTrace, "http"));
  EXPECT_FALSE(Enabled(Level::kInfo, "whisk"));
  EXPECT_TRUE(Enabled(Level::kWarn, "whisk"));
  EXPECT_FALSE(Enabled(Level::kError, "store"));
  EXPECT_FALSE(Enabled(Level::kDebug, "htt"));  // exact module names only
}

TEST_F(LogConfigTest, OffIsNeverALevelToWriteAt) {
  Options options;
  options.level = Level::kTrace;
  ASSERT_TRUE(Configure(options).ok());
  EXPECT_TRUE(Enabled(Level::kTrace, "m"));
  EXPECT_FALSE(Enabled(Level::kOff, "m"));
}

TEST_F(LogConfigTest, WritesOneJsonLinePerCallToTheFile) {
  Options options;
  options.file = path_;
  ASSERT_TRUE(Configure(options).ok());

  LogContext ctx({{"trace_id", "abc"}});
  Info("http", "listening", {{"port", 3233}, {"tls", false}});
  Error("store", "disk \"full\"\nretrying");

  const std::vector<std::string> lines = ReadLines();
  ASSERT_EQ(lines.size(), 2u);
  json first = ParseLine(lines[0]);
  EXPECT_THAT(first["ts"].get<std::string>(),
              MatchesRegex(R"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)"));
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["module"], "http");
  EXPECT_EQ(first["msg"], "listening");
  EXPECT_EQ(first["port"], 3233);
  EXPECT_EQ(first["tls"], false);
  EXPECT_EQ(first["trace_id"], "abc");

  json second = ParseLine(lines[1]);
  EXPECT_EQ(second["level"], "error");
  EXPECT_EQ(second["msg"], "disk \"full\"\nretrying");
}

TEST_F(LogConfigTest, SkipsLinesBelowTheModulesLevel) {
  Options options;
  options.file = path_;
  options.level = Level::kInfo;
  options.module_levels = {{"http", Level::kTrace}, {"store", Level::kError}};
  ASSERT_TRUE(Configure(options).ok());

  Trace("http", "kept trace");
  Debug("whisk", "dropped debug");
  Info("whisk", "kept info");
  Warn("store", "dropped warn");
  Error("store", "kept error");

  std::vector<std::string> msgs;
  for (const std::string& line : ReadLines()) msgs.push_back(ParseLine(line)["msg"]);
  EXPECT_THAT(msgs, ElementsAre("kept trace", "kept info", "kept error"));
}

TEST_F(LogConfigTest, AppendsToAnExistingFile) {
  {
    std::ofstream out(path_);
    out << "earlier line\n";
  }
  Options options;
  options.file = path_;
  ASSERT_TRUE(Configure(options).ok());
  Warn("cli", "started");
  ASSERT_TRUE(Configure(options).ok());  // reopening does not truncate either
  Warn("cli", "again");

  const std::vector<std::string> lines = ReadLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "earlier line");
  EXPECT_EQ(ParseLine(lines[1])["msg"], "started");
  EXPECT_EQ(ParseLine(lines[2])["msg"], "again");
}

TEST_F(LogConfigTest, ConfigureFailsWhenTheFileCannotBeOpened) {
  // A regular file cannot be a directory, so nothing can be created beneath it.
  const std::string blocker = (dir_ / "not_a_dir").string();
  { std::ofstream(blocker) << "x"; }
  Options options;
  options.file = blocker + "/wisp.log";
  Status s = Configure(options);
  EXPECT_TRUE(s.IsIoError()) << s.ToString();
  EXPECT_THAT(s.message(), ::testing::HasSubstr(options.file));
}

TEST_F(LogConfigTest, ConcurrentWritersProduceWholeLines) {
  Options options;
  options.file = path_;
  ASSERT_TRUE(Configure(options).ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      LogContext ctx({{"thread", t}});
      for (int i = 0; i < kPerThread; ++i) Info("m", "line", {{"i", i}});
    });
  }
  for (auto& t : threads) t.join();

  const std::vector<std::string> lines = ReadLines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> per_thread(kThreads, 0);
  for (const std::string& line : lines) {
    json j = ParseLine(line);
    ASSERT_TRUE(j.contains("thread")) << line;
    ++per_thread[j["thread"].get<int>()];
  }
  EXPECT_THAT(per_thread, ElementsAre(kPerThread, kPerThread, kPerThread, kPerThread));
}

}  // namespace
}  // namespace wisp::log

// --- Level specifications, the text format, shadowed and carried contexts ---

namespace wisp::log {
namespace {

TEST(LevelSpecTest, ReadsADefaultAndModuleLevels) {
  Options options;
  ASSERT_TRUE(ParseLevelSpec("warn,store=debug,whisk=error", &options).ok());
  EXPECT_EQ(options.level, Level::kWarn);
  ASSERT_EQ(options.module_levels.size(), 2u);
  EXPECT_EQ(options.module_levels[0], std::make_pair(std::string("store"), Level::kDebug));
  EXPECT_EQ(options.module_levels[1], std::make_pair(std::string("whisk"), Level::kError));
}

TEST(LevelSpecTest, ModulesAloneKeepTheDefaultLevel) {
  Options options;
  ASSERT_TRUE(ParseLevelSpec("http=trace", &options).ok());
  EXPECT_EQ(options.level, Level::kInfo);
  ASSERT_EQ(options.module_levels.size(), 1u);
  EXPECT_EQ(options.module_levels[0].second, Level::kTrace);
}

TEST(LevelSpecTest, RejectsUnknownLevelsAndEmptyModulesAndChangesNothing) {
  for (const char* spec : {"loud", "info,store=loud", "=debug", "info,,warn", ""}) {
    Options options;
    options.module_levels = {{"http", Level::kDebug}};
    Status s = ParseLevelSpec(spec, &options);
    EXPECT_TRUE(s.IsInvalidArgument()) << spec;
    EXPECT_EQ(options.level, Level::kInfo) << spec;
    EXPECT_EQ(options.module_levels.size(), 1u) << spec;
  }
}

TEST(FormatTest, ParsesBothNames) {
  Format format = Format::kText;
  EXPECT_TRUE(ParseFormat("json", &format));
  EXPECT_EQ(format, Format::kJson);
  EXPECT_TRUE(ParseFormat("text", &format));
  EXPECT_EQ(format, Format::kText);
  EXPECT_FALSE(ParseFormat("xml", &format));
  EXPECT_EQ(format, Format::kText);
}

TEST(FormatTextLineTest, ShowsLevelModuleMessageAndFields) {
  LogContext ctx({{"trace_id", "t1"}});
  EXPECT_EQ(FormatTextLine(kTs, Level::kWarn, "http", "slow request",
                           {{"ms", 1200}, {"path", "/a b"}, {"ok", false}, {"empty", ""}}),
            std::string(kTs) + R"( WARN  http slow request trace_id=t1 ms=1200 path="/a b" ok=false empty="")");
}

TEST(FormatTextLineTest, KeepsALineOneLine) {
  const std::string line = FormatTextLine(kTs, Level::kInfo, "m", "two\nlines", {{"v", "x\ny"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

TEST(LogContextTest, AnInnerKeyReplacesTheOuterOneOnTheLine) {
  LogContext request({{"trace_id", "request"}});
  LogContext activation({{"trace_id", "activation"}, {"activation_id", "a1"}});
  const std::string line = FormatLine(kTs, Level::kInfo, "m", "x", {});
  EXPECT_THAT(KeysInOrder(line), ElementsAre("ts", "level", "module", "msg", "trace_id", "activation_id"));
  EXPECT_EQ(ParseLine(line)["trace_id"], "activation");
}

TEST(LogContextTest, TheLinesOwnFieldWinsOverTheContext) {
  LogContext ctx({{"action", "guest/a"}});
  const std::string line = FormatLine(kTs, Level::kInfo, "m", "x", {{"action", "guest/b"}});
  EXPECT_THAT(KeysInOrder(line), ElementsAre("ts", "level", "module", "msg", "action"));
  EXPECT_EQ(ParseLine(line)["action"], "guest/b");
}

TEST(LogContextTest, ACapturedContextCarriesToAnotherThread) {
  std::string seen;
  {
    LogContext ctx({{"trace_id", "carried"}, {"activation_id", "a1"}});
    const CapturedContext captured = CapturedContext::Current();
    std::thread other([&] {
      LogContext carried(captured);
      seen = FormatLine(kTs, Level::kInfo, "m", "x", {});
    });
    other.join();
  }
  EXPECT_EQ(ParseLine(seen)["trace_id"], "carried");
  EXPECT_EQ(ParseLine(seen)["activation_id"], "a1");
  EXPECT_TRUE(CapturedContext::Current().empty());
}

TEST_F(LogConfigTest, TextFormatWritesTextLines) {
  Options options;
  options.file = path_;
  options.format = Format::kText;
  ASSERT_TRUE(Configure(options).ok());
  Info("cli", "started", {{"port", 3233}});
  const std::vector<std::string> lines = ReadLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], MatchesRegex(R"([0-9T:.-]+Z INFO  cli started port=3233)"));
}

TEST_F(LogConfigTest, ALevelSpecDecidesPerModule) {
  Options options;
  options.file = path_;
  ASSERT_TRUE(ParseLevelSpec("warn,store=debug", &options).ok());
  ASSERT_TRUE(Configure(options).ok());
  Debug("store", "kept store debug");
  Info("whisk", "dropped whisk info");
  Warn("whisk", "kept whisk warn");
  std::vector<std::string> msgs;
  for (const std::string& line : ReadLines()) msgs.push_back(ParseLine(line)["msg"]);
  EXPECT_THAT(msgs, ElementsAre("kept store debug", "kept whisk warn"));
}

}  // namespace
}  // namespace wisp::log
