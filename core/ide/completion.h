#pragma once
// Completion from the schema descriptors, correct inside broken text.
#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>
#include <vector>

#include "core/ide/docs_language.h"
#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::ide {

// LSP CompletionItemKind values used here.
enum class CompletionKind { Field = 5, Value = 12, Keyword = 14, EnumMember = 20, Struct = 22, File = 17, Module = 9 };

struct CompletionItem {
  std::string label;
  CompletionKind kind = CompletionKind::Field;
  std::string detail;         // e.g. the field's signature
  std::string documentation;  // markdown
  std::string insert_text;
  bool is_snippet = false;
  ByteRange replace;          // the text the item replaces
  std::string sort_text;      // items sort by this, then label
  bool trigger_suggest = false;  // ask the editor to complete again after inserting (e.g. after "name: ")
};

struct CompletionOptions {
  const google::protobuf::Descriptor* root_type = nullptr;  // the bound schema's root, or null
  const google::protobuf::FileDescriptor* schema_file = nullptr;  // for `# proto-message:` names
  bool is_amct = false;                  // layer types, SoC support notes
  std::optional<std::string> soc;        // ranks values the SoC cannot run last
  DocsLanguage language = DocsLanguage::English;
  // The loaded model (amct.weights), as plain data: its layer names complete
  // inside `layer_name` and the *_layers skip lists, its layer types rank
  // first inside `layer_type` and the *_types lists.
  struct ModelLayer {
    std::string name;
    std::string type;
  };
  std::vector<ModelLayer> model_layers;
};

std::vector<CompletionItem> complete(const syntax::Document& document, uint32_t offset,
                                     const CompletionOptions& options);

}  // namespace amct::ide
