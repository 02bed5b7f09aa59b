#pragma once
// Go to definition: from a field name or an enum value to its declaration
// in the .proto (the built-in AMCT schema or a loaded file).
#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>

#include "core/syntax/document.h"

namespace amct::ide {

struct DefinitionTarget {
  std::string proto_file;  // the descriptor's file name, as the pool knows it
  uint32_t line = 0;       // 0-based span of the declaration in that file
  uint32_t column = 0;
  uint32_t end_line = 0;
  uint32_t end_column = 0;
};

std::optional<DefinitionTarget> definition(const syntax::Document& document, uint32_t offset,
                                           const google::protobuf::Descriptor* root_type);

}  // namespace amct::ide
