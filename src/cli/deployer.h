// `wisp deploy` and `wisp undeploy`: bring an OpenWhisk namespace to what a
// manifest declares, through the REST API, so they work against any
// OpenWhisk.
//
// Deploy compares each declared entity with the one on the server and PUTs
// only what differs, so a second deploy of the same manifest changes nothing
// (no version bumps, no feed re-created). Order: packages, bindings, actions,
// sequences, triggers (a feed's lifecycle action gets CREATE, as `wsk trigger
// create --feed` does), rules. Undeploy goes the other way and tolerates
// entities that are already gone. docs/cli.md describes both.
//
// Thread-safety: a Deployer is used by one thread.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "cli/manifest.h"
#include "cli/wsk_client.h"

namespace wisp::cli {

// What a run did, counted per entity.
struct DeployCounts {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int deleted = 0;
  int missing = 0;  // undeploy: already gone
};

class Deployer {
 public:
  // Progress lines go to `out` ("created binding so"), errors to `err`
  // ("error: Unable to create rule 'r': ... (code ...)").
  Deployer(WskClient& client, FILE* out, FILE* err);

  // Each returns wsk's exit code: 0, the HTTP status minus 256 for a refused
  // request, 3 when the API host cannot be reached, 1 when a feed fails.
  // Deploy stops at the first error.
  int Deploy(const Manifest& manifest);
  int Undeploy(const Manifest& manifest);

  const DeployCounts& counts() const { return counts_; }

 private:
  // GET of one entity: nullopt after printing the error; a null Json when 404.
  std::optional<Json> Get(const std::string& collection, const std::string& name, const std::string& query = "");
  // Prints wsk's "error: Unable to WHAT: ..." for a failed request and sets the exit code.
  void Fail(const std::string& what, const Result<WskReply>& reply);
  // A request that must succeed; prints the error and returns nullopt if not.
  std::optional<WskReply> Call(const std::string& what, std::string_view method, const std::string& path,
                               const Json* body = nullptr);
  bool ResolveNamespace();
  std::string Resolved(const std::string& qualified) const;  // "/_/x" -> "/guest/x"

  bool PutIfChanged(const std::string& type, const std::string& collection, const ManifestEntity& entity,
                    const Json& existing, bool unchanged);
  bool DeployTrigger(const ManifestEntity& trigger);
  bool DeployRule(const ManifestEntity& rule);
  bool InvokeFeed(const std::string& feed, const std::string& event, const std::string& trigger, Json params);
  bool Delete(const std::string& type, const std::string& collection, const std::string& name);
  void Report(const char* verb, const std::string& type, const std::string& name);

  WskClient& client_;
  FILE* out_;
  FILE* err_;
  std::string namespace_;  // the caller's namespace as the server names it
  DeployCounts counts_;
  int exit_code_ = 0;
};

}  // namespace wisp::cli
