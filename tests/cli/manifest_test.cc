// The wskdeploy manifest reader: what each section turns into, variables,
// and the errors a user gets for a bad manifest.
#include "cli/manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "testing/temp_dir.h"

namespace wisp::cli {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Json Param(const Json& key_values, const std::string& key) {
  for (const Json& kv : key_values)
    if (kv["key"] == key) return kv["value"];
  return Json("<absent>");
}

TEST(SubstituteEnvironmentTest, BracedPlainDefaultsAndEscapes) {
  EnvLookup env = Env({{"HOST", "example.org"}, {"EMPTY", ""}});
  EXPECT_EQ(SubstituteEnvironment("https://${HOST}/x", env), "https://example.org/x");
  EXPECT_EQ(SubstituteEnvironment("$HOST:80", env), "example.org:80");
  EXPECT_EQ(SubstituteEnvironment("${MISSING}", env), "");
  EXPECT_EQ(SubstituteEnvironment("${MISSING:-*/5 * * * *}", env), "*/5 * * * *");
  EXPECT_EQ(SubstituteEnvironment("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(SubstituteEnvironment("${HOST:-fallback}", env), "example.org");
  EXPECT_EQ(SubstituteEnvironment("costs $$5 or $5", env), "costs $5 or $5");
  EXPECT_EQ(SubstituteEnvironment("${unterminated", env), "${unterminated");
}

TEST(ManifestTest, EveryKindOfEntity) {
  const std::string text = R"(
project:
  name: demo
packages:
  tools:
    inputs:
      region: ${REGION}
      retries: 3
      typed: { type: string, default: fallback }
    annotations: { owner: team }
    dependencies:
      cron: { location: /whisk.system/alarms, inputs: { a: 1 } }
    actions:
      hello:
        code: echo
        runtime: builtin
        main: run
        web: raw
        limits: { timeout: 5000, memorySize: 256 }
        inputs: { greeting: "true", flag: true, nothing: ~ }
    sequences:
      twice: { actions: "hello, cron/other, /whisk.system/utils/echo" }
    triggers:
      every: { feed: /whisk.system/alarms/alarm, inputs: { cron: "* * * * *", trigger_payload: { k: [1, two] } } }
      plain: { inputs: { p: v } }
    rules:
      on-every: { trigger: every, action: twice }
)";
  Result<Manifest> m = ParseManifest(text, ".", "m.yaml", Env({{"REGION", "eu"}}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->project, "demo");

  ASSERT_EQ(m->packages.size(), 1u);
  EXPECT_EQ(m->packages[0].name, "tools");
  EXPECT_EQ(Param(m->packages[0].body["parameters"], "region"), "eu");
  EXPECT_EQ(Param(m->packages[0].body["parameters"], "retries"), 3);
  EXPECT_EQ(Param(m->packages[0].body["parameters"], "typed"), "fallback");
  EXPECT_EQ(Param(m->packages[0].body["annotations"], "owner"), "team");

  ASSERT_EQ(m->bindings.size(), 1u);
  EXPECT_EQ(m->bindings[0].name, "cron");
  EXPECT_EQ(m->bindings[0].body["binding"], Json({{"namespace", "whisk.system"}, {"name", "alarms"}}));

  ASSERT_EQ(m->actions.size(), 1u);
  const Json& hello = m->actions[0].body;
  EXPECT_EQ(m->actions[0].name, "tools/hello");
  EXPECT_EQ(hello["exec"], Json({{"kind", "builtin"}, {"code", "echo"}, {"main", "run"}}));
  EXPECT_EQ(hello["limits"], Json({{"timeout", 5000}, {"memory", 256}}));
  EXPECT_EQ(Param(hello["parameters"], "greeting"), "true") << "a quoted scalar stays a string";
  EXPECT_EQ(Param(hello["parameters"], "flag"), true);
  EXPECT_TRUE(Param(hello["parameters"], "nothing").is_null());
  EXPECT_EQ(Param(hello["annotations"], "web-export"), true);
  EXPECT_EQ(Param(hello["annotations"], "raw-http"), true);

  ASSERT_EQ(m->sequences.size(), 1u);
  EXPECT_EQ(m->sequences[0].body["exec"]["components"],
            Json({"/_/tools/hello", "/_/cron/other", "/whisk.system/utils/echo"}));

  ASSERT_EQ(m->triggers.size(), 2u);
  EXPECT_EQ(m->triggers[0].feed, "/whisk.system/alarms/alarm");
  EXPECT_EQ(m->triggers[0].feed_inputs, Json({{"cron", "* * * * *"}, {"trigger_payload", {{"k", {1, "two"}}}}}));
  EXPECT_EQ(m->triggers[0].body["parameters"], Json::array()) << "feed inputs belong to the feed";
  EXPECT_EQ(Param(m->triggers[0].body["annotations"], "feed"), "/whisk.system/alarms/alarm");
  EXPECT_EQ(m->triggers[1].feed, "");
  EXPECT_EQ(Param(m->triggers[1].body["parameters"], "p"), "v");

  ASSERT_EQ(m->rules.size(), 1u);
  EXPECT_EQ(m->rules[0].body, Json({{"trigger", "/_/every"}, {"action", "/_/tools/twice"}}));
}

TEST(ManifestTest, DefaultPackageHoldsEntitiesOutsideAnyPackage) {
  Result<Manifest> m = ParseManifest(
      "packages:\n  default:\n    actions:\n      a: { code: echo, runtime: builtin }\n"
      "    rules:\n      r: { trigger: t, action: a }\n",
      ".", "m.yaml", Env({}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->packages.empty());
  EXPECT_EQ(m->actions[0].name, "a");
  EXPECT_EQ(m->rules[0].body["action"], "/_/a");
}

TEST(ManifestTest, FunctionFileIsReadRelativeToTheManifest) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/run.sh") << "#!/bin/sh\necho hi\n";
  std::ofstream(dir.path() + "/m.yaml")
      << "packages:\n  p:\n    actions:\n      run: { function: run.sh, runtime: native }\n";
  Result<Manifest> m = LoadManifest(dir.path() + "/m.yaml", Env({}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->actions[0].body["exec"]["kind"], "native");
  EXPECT_EQ(m->actions[0].body["exec"]["code"], "#!/bin/sh\necho hi\n");
}

TEST(ManifestTest, ErrorsNameTheFileAndLine) {
  auto error = [](const std::string& text) {
    Result<Manifest> m = ParseManifest(text, ".", "m.yaml", Env({}));
    return m.ok() ? std::string("<parsed>") : m.status().message();
  };
  EXPECT_EQ(error("packages:\n  p:\n    actoins: {}\n"), "m.yaml:3: unknown key `actoins` in package `p`");
  EXPECT_EQ(error("packages:\n  p:\n    actions:\n      a: { code: x }\n"),
            "m.yaml:4: action `a`: inline `code` needs a `runtime`");
  EXPECT_EQ(error("packages:\n  p:\n    actions:\n      a: { function: nosuch.js }\n"),
            "m.yaml:4: action `a`: file './nosuch.js' does not exist or is not a file");
  EXPECT_EQ(error("packages:\n  p:\n    rules:\n      r: { trigger: [t], action: a }\n"),
            "m.yaml:4: `trigger` in rule `r` must be one value");
  EXPECT_EQ(error("packages:\n  p:\n    rules:\n      r: { trigger: t }\n"),
            "m.yaml:4: rule `r` needs a `trigger` and an `action`");
  EXPECT_EQ(
      error("packages:\n  p:\n    dependencies:\n      d: { location: github.com/x/y }\n"),
      "m.yaml:4: dependency `d`: `location` must name a package as /NAMESPACE/PACKAGE (wisp deploys bindings only)");
  EXPECT_EQ(error("packages:\n  p:\n    apis: {}\n"),
            "m.yaml:3: `apis` in package `p` is not supported by wisp deploy (docs/cli.md)");
  EXPECT_EQ(error("packages:\n  p:\n    actions:\n      a: { code: x, runtime: builtin, web: maybe }\n"),
            "m.yaml:4: `web` in action `a` must be true, false, yes, no or raw");
  EXPECT_EQ(error(""), "m.yaml: the manifest is empty");
  const std::string syntax = error("packages:\n  p: [unclosed\n");
  EXPECT_EQ(syntax.rfind("m.yaml:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("invalid YAML"), std::string::npos) << syntax;
  Result<Manifest> missing = LoadManifest("/nonexistent/manifest.yaml", Env({}));
  EXPECT_TRUE(missing.status().IsNotFound());
}

// The pipeline's own manifest, as src/apps/stackoverflow/README.md and the
// contract with the built-in package describe it.
TEST(ManifestTest, StackoverflowManifestDeclaresThePipeline) {
  Result<Manifest> m = LoadManifest(STACKOVERFLOW_MANIFEST, Env({{"SO_API_URL", "http://127.0.0.1:9/2.3"}}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->bindings.size(), 1u);
  const ManifestEntity& so = m->bindings[0];
  EXPECT_EQ(so.name, "so");
  EXPECT_EQ(so.body["binding"], Json({{"namespace", "whisk.system"}, {"name", "stackoverflow"}}));
  EXPECT_EQ(Param(so.body["parameters"], "api_url"), "http://127.0.0.1:9/2.3");
  EXPECT_EQ(Param(so.body["parameters"], "slackURL"), "") << "unset: nothing is posted";
  EXPECT_EQ(Param(so.body["parameters"], "dbname"), "questions");

  ASSERT_EQ(m->sequences.size(), 2u);
  EXPECT_EQ(m->sequences[0].name, "stackoverflow/socron");
  EXPECT_EQ(m->sequences[0].body["exec"]["components"], Json({"/_/so/collector", "/_/so/invoker"}));
  EXPECT_EQ(m->sequences[1].name, "stackoverflow/qhandler");
  EXPECT_EQ(m->sequences[1].body["exec"]["components"], Json({"/_/so/storer", "/_/so/notifier"}));

  ASSERT_GE(m->triggers.size(), 2u);
  bool saw_or = false, saw_and = false;
  for (const ManifestEntity& t : m->triggers) {
    EXPECT_EQ(t.feed, "/whisk.system/alarms/alarm") << t.name;
    EXPECT_EQ(t.feed_inputs["cron"], "*/5 * * * *") << "the default schedule";
    const Json& payload = t.feed_inputs["trigger_payload"];
    ASSERT_TRUE(payload["tags"].is_array()) << t.name;
    if (payload["search_type"] == "or") saw_or = true;
    if (payload["search_type"] == "and") {
      saw_and = true;
      EXPECT_EQ(payload["tags"].size(), 2u) << "an AND search watches a pair of tags";
    }
  }
  EXPECT_TRUE(saw_or && saw_and);
  ASSERT_EQ(m->rules.size(), m->triggers.size());
  for (const ManifestEntity& r : m->rules) EXPECT_EQ(r.body["action"], "/_/stackoverflow/socron");
}

}  // namespace
}  // namespace wisp::cli
