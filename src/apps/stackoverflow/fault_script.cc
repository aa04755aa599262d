#include "apps/stackoverflow/fault_script.h"

#include <fstream>
#include <limits>
#include <sstream>

namespace wisp::stackoverflow {

Result<FaultScript> FaultScript::Parse(std::string_view text) {
  FaultScript script;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    auto parsed = json::ParseObject(line);
    const std::string where = "fault script line " + std::to_string(line_no);
    if (!parsed.ok()) return Status::InvalidArgument(where + ": " + parsed.status().message());
    Fault fault;
    fault.params = *parsed;
    fault.kind = json::GetString(fault.params, "fault");
    if (fault.kind.empty()) return Status::InvalidArgument(where + ": \"fault\" is required");
    if (fault.params.contains("request")) {
      fault.from = fault.to = json::GetInt(fault.params, "request");
    } else if (fault.params.contains("from")) {
      fault.from = json::GetInt(fault.params, "from");
      fault.to = json::GetInt(fault.params, "to", std::numeric_limits<int64_t>::max());
    } else {
      return Status::InvalidArgument(where + ": \"request\" or \"from\" is required");
    }
    if (fault.from < 1 || fault.to < fault.from) return Status::InvalidArgument(where + ": bad request range");
    script.faults_.push_back(std::move(fault));
  }
  return script;
}

Result<FaultScript> FaultScript::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read fault script " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str());
}

std::optional<Fault> FaultScript::Find(int64_t n) const {
  for (const Fault& f : faults_) {
    if (n >= f.from && n <= f.to) return f;
  }
  return std::nullopt;
}

}  // namespace wisp::stackoverflow
