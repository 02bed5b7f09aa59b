#pragma once
// Schemas: the built-in AMCT schema (data/retrain_config.proto, embedded) and
// any .proto file loaded at run time with libprotobuf's compiler.
#include <google/protobuf/descriptor.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amct::schema {

// A message type to check documents against. Cheap to copy: `pool` owns (or,
// through an aliasing shared_ptr, keeps alive) everything `root` points into,
// including the Importer and source tree of a loaded .proto.
struct Schema {
  std::shared_ptr<const google::protobuf::DescriptorPool> pool;
  const google::protobuf::Descriptor* root = nullptr;
  std::string description;  // "AMCTRetrainConfig (built-in)", "pkg.Msg from path/x.proto"
  bool is_amct = false;     // the built-in AMCT schema
  std::string proto_path;   // the .proto on disk, "" for the built-in schema
};

// The text of data/retrain_config.proto as embedded in the binary.
std::string_view amct_proto_text();

// The built-in AMCTRetrainConfig schema, built once (thread-safe) from the
// embedded text. Its root is never null (the tests pin that).
const Schema& amct_schema();

// Diagnostic codes of schema loading; also used by binding.h.
inline constexpr const char* kSchemaFileNotFound = "schema-file-not-found";
inline constexpr const char* kSchemaError = "schema-error";
inline constexpr const char* kSchemaMessageNotFound = "schema-message-not-found";

struct LoadOptions {
  // Directories that `import "..."` statements resolve against (like protoc's
  // -I), searched in order; the folder of the loaded file is searched last.
  std::vector<std::string> import_roots;
  // More .proto files loaded into the same pool (`# proto-import:` headers),
  // e.g. to make extensions or Any payload types known.
  std::vector<std::string> extra_files;
};

struct SchemaError {
  std::string code;     // one of the kSchema* codes above
  std::string message;  // protobuf's text with file:line:col for schema-error
};

struct LoadResult {
  std::optional<Schema> schema;       // set on success
  std::optional<SchemaError> error;   // set on failure
  std::vector<std::string> files;     // every .proto read from disk (for cache validation)
};

// Loads `proto_file` (a path on disk) and finds `message_name` in it (fully
// qualified, or relative to the file's package). Never throws.
LoadResult load_schema(const std::string& proto_file, const std::string& message_name,
                       const LoadOptions& options = {});

// Names of all message types (nested ones too) defined in `file`, fully qualified.
std::vector<std::string> message_names(const google::protobuf::FileDescriptor* file);

}  // namespace amct::schema
