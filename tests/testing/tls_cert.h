// Generates a throwaway CA and a server certificate signed by it, for TLS
// tests. Files are written to a fresh temporary directory.
#pragma once

#include <string>

namespace wisp::testing {

struct TestCertificates {
  std::string dir;
  std::string ca_cert_file;      // trust this in the client
  std::string server_cert_file;  // CN and subjectAltName: localhost and 127.0.0.1
  std::string server_key_file;
};

// Aborts the test (via ADD_FAILURE and an empty result) on an OpenSSL failure.
TestCertificates MakeTestCertificates();

}  // namespace wisp::testing
