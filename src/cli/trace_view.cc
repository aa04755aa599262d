#include "cli/trace_view.h"

#include <cstdio>

namespace wisp::cli {
namespace {

std::string NodeText(const Json& node) {
  const std::string type = json::GetString(node, "type");
  if (type == "rule") {
    std::string text = "rule " + json::GetString(node, "rule") + " -> " + json::GetString(node, "action") + "  " +
                       json::GetString(node, "status");
    if (node.contains("error")) text += ": " + json::GetString(node, "error");
    return text;
  }
  std::string text = type + " " + json::GetString(node, "name") + "  " + json::GetString(node, "status");
  if (node.contains("duration")) text += "  " + std::to_string(json::GetInt(node, "duration")) + " ms";
  if (node.contains("cold")) {
    text += node.value("cold", false) ? "  cold (init " + std::to_string(json::GetInt(node, "initTime")) + " ms)"
                                      : "  warm";
  }
  if (const int64_t wait = json::GetInt(node, "waitTime"); wait > 0) {
    text += "  waited " + std::to_string(wait) + " ms";
  }
  text += "  " + json::GetString(node, "activationId");
  return text;
}

void RenderNode(const Json& node, const std::string& prefix, bool root, bool last, std::string& out) {
  out += prefix;
  if (!root) out += last ? "\u2514\u2500 " : "\u251c\u2500 ";
  out += NodeText(node);
  out += '\n';
  const std::string child_prefix = root ? prefix : prefix + (last ? "   " : "\u2502  ");
  const Json children = node.value("children", Json::array());
  for (size_t i = 0; i < children.size(); ++i) {
    RenderNode(children[i], child_prefix, false, i + 1 == children.size(), out);
  }
}

}  // namespace

std::string RenderTrace(const Json& trace) {
  std::string out = "trace " + json::GetString(trace, "trace_id");
  if (trace.contains("namespace")) out += " in " + json::GetString(trace, "namespace");
  out += ": " + std::to_string(json::GetInt(trace, "activations")) + " activations, " +
         std::to_string(json::GetInt(trace, "errors")) + " errors, " +
         std::to_string(json::GetInt(trace, "duration")) + " ms";
  if (trace.value("truncated", false)) out += " (truncated)";
  out += '\n';
  for (const Json& root : trace.value("roots", Json::array())) RenderNode(root, "", true, true, out);
  return out;
}

}  // namespace wisp::cli
