#pragma once
// Code lens: the resolved precedence. Above each override entry, what wins
// for its layer or type (data / weight / prune, each with the block it comes
// from); above each global block, the overrides that shadow it and the skip
// lists that exclude layers from it. AMCT configs only.
#include <string>
#include <vector>

#include "core/amct/rules.h"
#include "core/model/binder.h"
#include "core/syntax/diagnostic.h"

namespace amct::ide {

struct CodeLens {
  ByteRange range;  // the block's field name
  std::string title;
};

struct CodeLensOptions {
  AmctApi api = AmctApi::Compressed;
};

std::vector<CodeLens> code_lenses(const model::BoundDocument& bound, const CodeLensOptions& options);

}  // namespace amct::ide
