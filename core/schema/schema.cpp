#include "core/schema/schema.h"

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <unordered_set>

#include "core/embedded_files.h"
#include "core/text_util.h"

namespace amct::schema {

namespace pb = google::protobuf;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAmctProtoName = "retrain_config.proto";
constexpr std::string_view kAmctRootMessage = "AMCTRetrainConfig";

// ":line:col", 1-based (protobuf counts from 0).
void append_line_column(std::string& text, int line, int column) {
  text.append(":").append(std::to_string(line + 1));
  text.append(":").append(std::to_string(column + 1));
}

// Keeps protobuf's own error text, prefixed with file:line:col (1-based) the
// way protoc prints it, so a user can jump to the spot.
class CollectingErrors final : public pb::io::ErrorCollector {
 public:
  explicit CollectingErrors(std::string file) : file_(std::move(file)) {}
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    text += file_;
    append_line_column(text, line, column);
    text.append(": ").append(message).append("\n");
  }
  std::string text;

 private:
  std::string file_;
};

class CollectingPoolErrors final : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const pb::Message*, ErrorLocation, const std::string& message) override {
    text += filename + ": " + element_name + ": " + message + "\n";
  }
  std::string text;
};

class CollectingImportErrors final : public pb::compiler::MultiFileErrorCollector {
 public:
  explicit CollectingImportErrors(pb::compiler::DiskSourceTree* tree) : tree_(tree) {}
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    std::string disk_file;
    text += tree_->VirtualFileToDiskFile(filename, &disk_file) ? disk_file : filename;
    if (line >= 0) append_line_column(text, line, column);
    text.append(": ").append(message).append("\n");
  }
  void AddWarning(const std::string&, int, int, const std::string&) override {}
  std::string text;

 private:
  pb::compiler::DiskSourceTree* tree_;
};

std::string trim_trailing_newline(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

Schema build_amct_schema() {
  Schema schema;
  schema.is_amct = true;
  schema.description = std::string(kAmctRootMessage) + " (built-in)";
  auto pool = std::make_shared<pb::DescriptorPool>();
  schema.pool = pool;

  const std::string_view text = amct_proto_text();
  pb::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  CollectingErrors errors{std::string(kAmctProtoName)};
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  pb::FileDescriptorProto file_proto;
  if (!parser.Parse(&tokenizer, &file_proto)) {
    schema.description += " failed to parse: " + trim_trailing_newline(errors.text);
    return schema;
  }
  file_proto.set_name(std::string(kAmctProtoName));
  CollectingPoolErrors pool_errors;
  const pb::FileDescriptor* file = pool->BuildFileCollectingErrors(file_proto, &pool_errors);
  if (file == nullptr) {
    schema.description += " failed to build: " + trim_trailing_newline(pool_errors.text);
    return schema;
  }
  schema.root = file->FindMessageTypeByName(std::string(kAmctRootMessage));
  return schema;
}

// Everything a loaded .proto's descriptors point into; `pool` in Schema is an
// aliasing shared_ptr to importer.pool() that owns this whole object.
struct ImportedSchema {
  pb::compiler::DiskSourceTree source_tree;
  CollectingImportErrors errors{&source_tree};
  pb::compiler::Importer importer{&source_tree, &errors};
};

std::string absolute_normal(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(fs::path(path), error);
  if (error) absolute = fs::path(path);
  std::string text = absolute.lexically_normal().string();
  // DiskSourceTree compares textual prefixes; "dir/" and "dir" must agree.
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

std::string_view short_name(std::string_view full_name) {
  const size_t dot = full_name.rfind('.');
  return dot == std::string_view::npos ? full_name : full_name.substr(dot + 1);
}

std::string message_not_found_text(const std::string& wanted, const std::string& shown_path,
                                   const std::vector<std::string>& available) {
  std::string text = wanted.empty() ? "no message name given for '" + shown_path + "'"
                                    : "message '" + wanted + "' is not defined in '" +
                                          shown_path + "'";
  if (available.empty()) return text + " (the file defines no messages)";
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const std::string& name : available) {
    const size_t distance =
        std::min(edit_distance_ignoring_case(wanted, name), edit_distance_ignoring_case(short_name(wanted), short_name(name)));
    ranked.emplace_back(distance, name);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const size_t close_enough = std::max<size_t>(2, short_name(wanted).size() / 3);
  if (!wanted.empty() && ranked.front().first <= close_enough) {
    text += "; did you mean '" + ranked.front().second + "'?";
  }
  constexpr size_t kListed = 10;
  text += " Available: ";
  for (size_t i = 0; i < available.size() && i < kListed; ++i) {
    if (i > 0) text += ", ";
    text += available[i];
  }
  if (available.size() > kListed) {
    text += ", … (" + std::to_string(available.size() - kListed) + " more)";
  }
  return text;
}

void collect_message_names(const pb::Descriptor* message, std::vector<std::string>& names) {
  names.push_back(message->full_name());
  for (int i = 0; i < message->nested_type_count(); ++i) {
    const pb::Descriptor* nested = message->nested_type(i);
    if (nested->options().map_entry()) continue;
    collect_message_names(nested, names);
  }
}

// Every file of the import graph of `root`, once each. Iterative, with a
// visited set: an import graph may hold 10,000 files or a long chain.
void collect_files(const pb::FileDescriptor* root, pb::compiler::DiskSourceTree& tree,
                   std::vector<std::string>& files) {
  std::unordered_set<const pb::FileDescriptor*> visited;
  std::unordered_set<std::string> known(files.begin(), files.end());
  std::vector<const pb::FileDescriptor*> stack{root};
  while (!stack.empty()) {
    const pb::FileDescriptor* file = stack.back();
    stack.pop_back();
    if (!visited.insert(file).second) continue;
    std::string disk_file;
    if (!tree.VirtualFileToDiskFile(file->name(), &disk_file)) continue;  // e.g. descriptor.proto
    if (known.insert(disk_file).second) files.push_back(disk_file);
    for (int i = file->dependency_count() - 1; i >= 0; --i) stack.push_back(file->dependency(i));
  }
}

}  // namespace

std::string_view amct_proto_text() {
  return amct::embedded::find(kAmctProtoName).value_or(std::string_view{});
}

const Schema& amct_schema() {
  static const Schema schema = build_amct_schema();
  return schema;
}

std::vector<std::string> message_names(const pb::FileDescriptor* file) {
  std::vector<std::string> names;
  if (file == nullptr) return names;
  for (int i = 0; i < file->message_type_count(); ++i) {
    collect_message_names(file->message_type(i), names);
  }
  return names;
}

LoadResult load_schema(const std::string& proto_file, const std::string& message_name,
                       const LoadOptions& options) {
  LoadResult result;
  const auto fail = [&result](const char* code, std::string message) {
    result.error = SchemaError{code, trim_trailing_newline(std::move(message))};
    return std::move(result);
  };

  const std::string disk_file = absolute_normal(proto_file);
  std::error_code error;
  if (!fs::is_regular_file(disk_file, error)) {
    return fail(kSchemaFileNotFound,
                fs::exists(disk_file, error) ? "'" + proto_file + "' is not a regular file"
                                             : "proto file '" + proto_file + "' does not exist");
  }
  const std::string folder = fs::path(disk_file).parent_path().string();

  auto imported = std::make_shared<ImportedSchema>();
  for (const std::string& root : options.import_roots) {
    imported->source_tree.MapPath("", absolute_normal(root));
  }
  imported->source_tree.MapPath("", folder);

  // Name the file as `import` statements under the import roots would, so a
  // file imported by another one is not loaded twice under two names.
  std::string shadowing;
  const auto virtual_name_of = [&imported, &shadowing](const std::string& disk) {
    std::string virtual_file;
    shadowing.clear();
    const bool found = imported->source_tree.DiskFileToVirtualFile(disk, &virtual_file, &shadowing) ==
                       pb::compiler::DiskSourceTree::SUCCESS;
    return found ? std::optional<std::string>(virtual_file) : std::nullopt;
  };

  std::vector<std::string> to_import;
  for (const std::string& extra : options.extra_files) {
    const std::string extra_disk = absolute_normal(extra);
    if (!fs::is_regular_file(extra_disk, error)) {
      return fail(kSchemaFileNotFound, "proto file '" + extra + "' does not exist");
    }
    imported->source_tree.MapPath("", fs::path(extra_disk).parent_path().string());
    to_import.push_back(extra_disk);
  }

  const pb::FileDescriptor* main_file = nullptr;
  to_import.insert(to_import.begin(), disk_file);
  for (const std::string& disk : to_import) {
    std::optional<std::string> virtual_file = virtual_name_of(disk);
    if (!virtual_file) {
      if (shadowing.empty()) return fail(kSchemaError, "'" + disk + "' could not be opened");
      return fail(kSchemaError, "'" + disk + "' is shadowed by '" + shadowing +
                                    "', which has the same name under an import root; remove "
                                    "that root or rename one of the files");
    }
    const pb::FileDescriptor* file = imported->importer.Import(*virtual_file);
    if (file == nullptr) {
      std::string text = imported->errors.text;
      if (text.empty()) text = disk + ": could not be loaded";
      return fail(kSchemaError, text);
    }
    collect_files(file, imported->source_tree, result.files);
    if (main_file == nullptr) main_file = file;
  }

  const pb::DescriptorPool* pool = imported->importer.pool();
  const pb::Descriptor* root = nullptr;
  // ".pkg.Msg" (fully qualified, as in .proto type references) means "pkg.Msg".
  const std::string wanted =
      !message_name.empty() && message_name.front() == '.' ? message_name.substr(1) : message_name;
  if (!wanted.empty()) {
    root = pool->FindMessageTypeByName(wanted);
    if (root == nullptr && !main_file->package().empty()) {
      root = pool->FindMessageTypeByName(main_file->package() + "." + wanted);
    }
  }
  if (root == nullptr) {
    return fail(kSchemaMessageNotFound,
                message_not_found_text(message_name, proto_file, message_names(main_file)));
  }

  Schema schema;
  schema.pool = std::shared_ptr<const pb::DescriptorPool>(imported, pool);
  schema.root = root;
  schema.description = root->full_name() + " from " + proto_file;
  schema.is_amct = false;
  schema.proto_path = disk_file;
  result.schema = std::move(schema);
  return result;
}

}  // namespace amct::schema
