#pragma once
// Hover: a field's doc from the parameter table, its type, label, default,
// number and oneof, and the precedence rule; an enum value's meaning and the
// SoCs that run it.
#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>

#include "core/ide/docs_language.h"
#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::ide {

struct Hover {
  std::string markdown;
  ByteRange range;  // the hovered token
};

struct HoverOptions {
  const google::protobuf::Descriptor* root_type = nullptr;
  DocsLanguage language = DocsLanguage::English;
};

std::optional<Hover> hover(const syntax::Document& document, uint32_t offset, const HoverOptions& options);

}  // namespace amct::ide
