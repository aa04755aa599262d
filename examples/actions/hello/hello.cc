// hello: the smallest native action built on the C++ SDK.
//
//   {"name": "Ada"}  ->  {"greeting": "Hello, Ada!"}
//
// It is an actionloop executable: wisp runs it as an action of kind "native"
// (its bytes, base64, as binary code), and so does an OpenWhisk actionloop
// runtime. docs/actionloop.md has the protocol.
#include <iostream>
#include <string>

#include "whisk/sdk/action.h"

namespace {

wisp::Result<wisp::Json> Hello(const wisp::Json& args) {
  if (args.contains("name") && !args["name"].is_string()) {
    return wisp::Status::InvalidArgument("name must be a string");
  }
  const std::string name = wisp::json::GetString(args, "name", "World");
  std::cout << "hello: greeting " << name << std::endl;
  return wisp::Json{{"greeting", "Hello, " + name + "!"}};
}

}  // namespace

int main() { return wisp::whisk::sdk::Serve(Hello); }
