#pragma once
// Catch2 printers for core types, so failing assertions show values.
#include <catch2/catch.hpp>

#include <string>

#include "core/syntax/diagnostic.h"

namespace Catch {
template <>
struct StringMaker<amct::ByteRange> {
  static std::string convert(const amct::ByteRange& r) {
    return "[" + std::to_string(r.start) + ", " + std::to_string(r.end) + ")";
  }
};
}  // namespace Catch
