#include "testing/tls_cert.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace wisp::testing {
namespace {

EVP_PKEY* NewKey() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) > 0) {
    EVP_PKEY_keygen(ctx, &key);
  }
  EVP_PKEY_CTX_free(ctx);
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext) {
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
}

X509* NewCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial, bool is_ca) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509* ext_issuer = issuer ? issuer : cert;
  if (is_ca) {
    AddExtension(cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, ext_issuer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert, ext_issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    AddExtension(cert, ext_issuer, NID_ext_key_usage, "serverAuth");
  }
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  const bool ok = cert ? PEM_write_X509(f, cert) == 1
                       : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  return ok;
}

}  // namespace

TestCertificates MakeTestCertificates() {
  TestCertificates out;
  char dir_template[] = "/tmp/wisp-tls-XXXXXX";
  if (!mkdtemp(dir_template)) {
    ADD_FAILURE() << "mkdtemp failed";
    return out;
  }
  out.dir = dir_template;
  out.ca_cert_file = out.dir + "/ca.pem";
  out.server_cert_file = out.dir + "/server.pem";
  out.server_key_file = out.dir + "/server.key";

  EVP_PKEY* ca_key = NewKey();
  EVP_PKEY* server_key = NewKey();
  if (!ca_key || !server_key) {
    ADD_FAILURE() << "key generation failed";
    return out;
  }
  X509* ca = NewCert(ca_key, "wisp test CA", nullptr, nullptr, 1, /*is_ca=*/true);
  X509* server = NewCert(server_key, "localhost", ca, ca_key, 2, /*is_ca=*/false);
  const bool ok = WritePem(out.ca_cert_file, ca, nullptr) && WritePem(out.server_cert_file, server, nullptr) &&
                  WritePem(out.server_key_file, nullptr, server_key);
  if (!ok) ADD_FAILURE() << "writing PEM files failed";
  X509_free(server);
  X509_free(ca);
  EVP_PKEY_free(server_key);
  EVP_PKEY_free(ca_key);
  return out;
}

}  // namespace wisp::testing
