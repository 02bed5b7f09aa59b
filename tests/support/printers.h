#pragma once
// Catch2 printers for core types, so failing assertions show values.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "core/syntax/diagnostic.h"

namespace Catch {
template <>
struct StringMaker<amct::ByteRange> {
  static std::string convert(const amct::ByteRange& r) {
    std::ostringstream out;  // not operator+: GCC 12 -Wrestrict false positive
    out << '[' << r.start << ", " << r.end << ')';
    return out.str();
  }
};
}  // namespace Catch
