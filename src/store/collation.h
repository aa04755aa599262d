// Collation: the orders in which CouchDB sorts JSON values and document ids.
//
// CollateJson is CouchDB's view collation, the order of view keys and of every
// Mango comparison ($gt, $eq, $in, sort ...):
//
//   null < false < true < numbers < strings < arrays < objects
//
//   - numbers compare by value: 1 == 1.0, and integers beyond 2^53 compare
//     exactly against each other and against doubles;
//   - arrays compare element by element; a prefix sorts before the longer array;
//   - objects compare key/value pair by pair (key first, then value); an object
//     whose pairs are a prefix of another's sorts first. CouchDB compares the
//     pairs in the order the members were written; wisp's Json keeps members
//     sorted by key bytes, so two objects holding the same members in a
//     different written order compare equal here but not in CouchDB;
//   - strings: see below.
//
// Strings. CouchDB compares strings with ICU's root collator (the Unicode
// Collation Algorithm with CLDR root data, default strength). wisp does not
// link ICU; it approximates it so that ASCII text sorts exactly as CouchDB
// sorts it, and everything else sorts deterministically:
//
//   1. Primary level, over the whole string: letters compare without regard to
//      case; all symbols sort before digits and digits before letters, in
//      ICU's order for ASCII:
//        TAB LF VT FF CR SPACE _ - , ; : ! ? . ' " ( ) [ ] { } @ * / \ & # % ` ^ + < = > | ~ $
//        0 1 ... 9  a/A b/B ... z/Z
//      Other ASCII control characters (U+0000-U+0008, U+000E-U+001F, U+007F)
//      are ignored, as ICU ignores them: "a\u0001b" equals "ab".
//   2. Only when the primary level is equal: case, the first position where
//      the case differs decides, lowercase first.
//
//   So "a" < "A" < "aa" < "Ab" < "b" < "B" and "abc" < "Abc" < "ABC" < "abc1",
//   as CouchDB's docs (ddocs/views/collation.rst) show.
//
//   Approximation: a code point above U+007F gets a primary weight of its own,
//   above every ASCII character and ordered by code point, with no case or
//   accent levels; ICU would instead sort "é" with "e", "ß" with "ss", ignore
//   zero-width characters, and so on. Bytes that are not valid UTF-8 sort
//   after every code point, by byte value. The ASCII table above was checked
//   against ICU 72 (CouchDB 3.x needs ICU >= 59, where this part of the root
//   collation is the same); the table printed in collation.rst, which puts
//   ` and ^ first, comes from an older ICU.
//
// CollateRaw is the byte order of UTF-8 text, used for document ids in
// _all_docs and _changes ("ASCII collation, not UCA").
//
// Both functions are total orders (antisymmetric and transitive), iterate
// rather than recurse (any nesting depth is safe), and never throw.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "json/json.h"

namespace wisp::store {

// Negative when a sorts before b, zero when they collate equal, positive when
// a sorts after b, in CouchDB view collation (above).
int CollateJson(const Json& a, const Json& b);

// The same order restricted to strings (step "Strings" above). Both arguments
// are UTF-8; invalid bytes are tolerated.
int CollateString(std::string_view a, std::string_view b);

// Negative, zero or positive as a sorts before, equal to or after b in
// unsigned byte order.
int CollateRaw(std::string_view a, std::string_view b);

}  // namespace wisp::store
