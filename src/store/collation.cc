#include "store/collation.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace wisp::store {
namespace {

// ICU root collation of the printable ASCII characters and the whitespace
// controls, lowest first. An uppercase letter shares the primary weight of its
// lowercase letter and differs only at the case level.
constexpr std::string_view kAsciiOrder =
    "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz";

// Primary weight of each ASCII byte; 0 marks the controls ICU ignores.
constexpr std::array<uint32_t, 128> MakeAsciiPrimary() {
  std::array<uint32_t, 128> weights{};
  for (size_t i = 0; i < kAsciiOrder.size(); ++i) {
    const auto c = static_cast<unsigned char>(kAsciiOrder[i]);
    weights[c] = static_cast<uint32_t>(i + 1);
    if (c >= 'a' && c <= 'z') weights[c - 'a' + 'A'] = static_cast<uint32_t>(i + 1);
  }
  return weights;
}
constexpr std::array<uint32_t, 128> kAsciiPrimary = MakeAsciiPrimary();

// Weights above this belong to code points beyond ASCII, then to invalid bytes.
constexpr uint32_t kNonAsciiBase = 0x1000;
// An invalid UTF-8 byte decodes to kInvalidBase + its value: above U+10FFFF.
constexpr uint32_t kInvalidBase = 0x110000;

// Decodes the code point at s[i] and advances i past it. A byte that does not
// start a well-formed sequence (overlong, surrogate, truncated, > U+10FFFF)
// decodes to kInvalidBase + byte and advances by one.
uint32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  }
  if (len == 0 || i + len > s.size()) {
    ++i;
    return kInvalidBase + b0;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalidBase + b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kInvalidBase + b0;
  }
  i += len;
  return cp;
}

uint32_t PrimaryWeight(uint32_t cp) { return cp < 128 ? kAsciiPrimary[cp] : kNonAsciiBase + cp; }

// Case level: 1 for an uppercase ASCII letter, 0 otherwise.
uint32_t CaseWeight(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? 1 : 0; }

// Compares the sequences of `level(cp)` over the characters of a and b whose
// primary weight is not 0 (ignorable); the shorter sequence sorts first.
template <typename Level>
int CompareLevel(std::string_view a, std::string_view b, Level level) {
  size_t i = 0;
  size_t j = 0;
  for (;;) {
    bool has_a = false;
    bool has_b = false;
    uint32_t wa = 0;
    uint32_t wb = 0;
    while (i < a.size()) {
      const uint32_t cp = NextCodePoint(a, i);
      if (PrimaryWeight(cp) != 0) {
        has_a = true;
        wa = level(cp);
        break;
      }
    }
    while (j < b.size()) {
      const uint32_t cp = NextCodePoint(b, j);
      if (PrimaryWeight(cp) != 0) {
        has_b = true;
        wb = level(cp);
        break;
      }
    }
    if (!has_a || !has_b) return has_a == has_b ? 0 : (has_a ? 1 : -1);
    if (wa != wb) return wa < wb ? -1 : 1;
  }
}

template <typename T>
int Sign(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

// NaN never comes out of a JSON parser; should one be built by hand it sorts
// below every other number, so that the order stays total.
int CompareDoubles(double a, double b) {
  const bool na = std::isnan(a);
  const bool nb = std::isnan(b);
  if (na || nb) return na == nb ? 0 : (na ? -1 : 1);
  return Sign(a, b);
}

// Exact comparison of an int64 with a double.
int CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return 1;
  constexpr double kTwo63 = 9223372036854775808.0;
  if (d >= kTwo63) return -1;
  if (d < -kTwo63) return 1;
  const double t = std::trunc(d);  // within int64 range, so the cast is exact
  const auto ti = static_cast<int64_t>(t);
  if (i != ti) return i < ti ? -1 : 1;
  const double frac = d - t;
  return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

// Exact comparison of a uint64 with a double.
int CompareUintDouble(uint64_t u, double d) {
  if (std::isnan(d)) return 1;
  if (d < 0) return 1;
  constexpr double kTwo64 = 18446744073709551616.0;
  if (d >= kTwo64) return -1;
  const double t = std::trunc(d);
  const auto tu = static_cast<uint64_t>(t);
  if (u != tu) return u < tu ? -1 : 1;
  return d - t > 0 ? -1 : 0;
}

int CompareIntUint(int64_t i, uint64_t u) {
  if (i < 0) return -1;
  return Sign(static_cast<uint64_t>(i), u);
}

int CompareNumbers(const Json& a, const Json& b) {
  // Exact in every case: ints and doubles meet by value, 1 == 1.0.
  using T = Json::value_t;
  const T ta = a.type();
  const T tb = b.type();
  if (ta == T::number_float && tb == T::number_float) {
    return CompareDoubles(a.get<double>(), b.get<double>());
  }
  if (ta == T::number_float) return -CompareNumbers(b, a);
  // a is an integer from here on.
  if (ta == T::number_integer) {
    const auto i = a.get<int64_t>();
    if (tb == T::number_integer) return Sign(i, b.get<int64_t>());
    if (tb == T::number_unsigned) return CompareIntUint(i, b.get<uint64_t>());
    return CompareIntDouble(i, b.get<double>());
  }
  const auto u = a.get<uint64_t>();
  if (tb == T::number_integer) return -CompareIntUint(b.get<int64_t>(), u);
  if (tb == T::number_unsigned) return Sign(u, b.get<uint64_t>());
  return CompareUintDouble(u, b.get<double>());
}

// The type class of a value in collation order. Binary values and the
// parser's "discarded" marker never come from JSON text; they sort last.
int Rank(const Json& v) {
  using T = Json::value_t;
  switch (v.type()) {
    case T::null: return 0;
    case T::boolean: return v.get<bool>() ? 2 : 1;
    case T::number_integer:
    case T::number_unsigned:
    case T::number_float: return 3;
    case T::string: return 4;
    case T::array: return 5;
    case T::object: return 6;
    case T::binary: return 7;
    case T::discarded: return 8;
  }
  return 8;
}

// Compares everything but the members of two containers: the type class, and
// the value of scalars. Containers of the same kind compare equal here.
int CompareShallow(const Json& a, const Json& b) {
  const int ra = Rank(a);
  const int rb = Rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 3: return CompareNumbers(a, b);
    case 4: return CollateString(a.get_ref<const std::string&>(), b.get_ref<const std::string&>());
    case 7: {
      const auto& ba = a.get_binary();
      const auto& bb = b.get_binary();
      const std::string_view va(reinterpret_cast<const char*>(ba.data()), ba.size());
      const std::string_view vb(reinterpret_cast<const char*>(bb.data()), bb.size());
      return CollateRaw(va, vb);
    }
    default: return 0;
  }
}

}  // namespace

int CollateString(std::string_view a, std::string_view b) {
  if (int r = CompareLevel(a, b, PrimaryWeight); r != 0) return r;
  return CompareLevel(a, b, CaseWeight);
}

int CollateRaw(std::string_view a, std::string_view b) {
  const int r = a.compare(b);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

int CollateJson(const Json& a, const Json& b) {
  // An explicit stack of the containers being walked, so that deeply nested
  // values cannot exhaust the thread's stack.
  struct Frame {
    const Json* a;
    const Json* b;
    size_t index;                 // arrays: the next element
    Json::const_iterator ia, ib;  // objects: the next members
  };
  std::vector<Frame> stack;
  const Json* x = &a;
  const Json* y = &b;
  for (;;) {
    if (int r = CompareShallow(*x, *y); r != 0) return r;
    if (x->is_array() || x->is_object()) stack.push_back(Frame{x, y, 0, x->cbegin(), y->cbegin()});
    // Find the next pair of members to compare, closing finished containers.
    for (;;) {
      if (stack.empty()) return 0;
      Frame& f = stack.back();
      if (f.a->is_array()) {
        const size_t na = f.a->size();
        const size_t nb = f.b->size();
        if (f.index < na && f.index < nb) {
          x = &(*f.a)[f.index];
          y = &(*f.b)[f.index];
          ++f.index;
          break;
        }
        if (na != nb) return na < nb ? -1 : 1;
      } else {
        const bool end_a = f.ia == f.a->cend();
        const bool end_b = f.ib == f.b->cend();
        if (!end_a && !end_b) {
          if (int r = CollateString(f.ia.key(), f.ib.key()); r != 0) return r;
          x = &f.ia.value();
          y = &f.ib.value();
          ++f.ia;
          ++f.ib;
          break;
        }
        if (end_a != end_b) return end_a ? -1 : 1;
      }
      stack.pop_back();
    }
  }
}

}  // namespace wisp::store
