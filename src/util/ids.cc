#include "util/ids.h"

#include <cstdint>
#include <random>

namespace wisp {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::mt19937_64& ThreadRng() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return rng;
}

std::string HexOf(uint64_t hi, uint64_t lo) {
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kHex[(hi >> (4 * i)) & 0xF];
    out[31 - i] = kHex[(lo >> (4 * i)) & 0xF];
  }
  return out;
}

}  // namespace

std::string NewId() {
  auto& rng = ThreadRng();
  return HexOf(rng(), rng());
}

std::string NewUuid() {
  auto& rng = ThreadRng();
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;                     // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);      // variant 10xx
  std::string hex = HexOf(hi, lo);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string RandomSecret(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;  // libstdc++ reads the OS source (getrandom / /dev/urandom)
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    const uint32_t v = rd();
    // 62 * 69273666 = 4294967292: reject the top few values to stay unbiased.
    if (v >= 62u * 69273666u) continue;
    out.push_back(kAlphabet[v % 62]);
  }
  return out;
}

bool IsId(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace wisp
