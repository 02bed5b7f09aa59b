#pragma once
// Which schema a document is checked against (DESIGN.md "Schema binding"),
// the first that applies:
//   1. header comments `# proto-file:` / `# proto-message:` / `# proto-import:`
//      (paths resolve against the file's folder, the workspace root, then the
//      import roots, and only to files inside one of those folders after
//      symlinks are followed: a header path that leaves them, e.g.
//      `../../etc/passwd`, an absolute path elsewhere or a symlink pointing
//      out, gets `schema-path-outside-workspace` and is not read. Paths from
//      the user's own settings and command line (--proto, schemaMappings)
//      are not restricted);
//   2. an explicit proto file / message from the options (CLI --proto/--message,
//      or a settings glob mapping resolved by the caller);
//   3. the built-in AMCT schema for `.cfg` files and for documents whose
//      top-level field names are AMCT's.
// A source that applies but fails (missing file, .proto with errors, unknown
// message) gives a diagnostic and no schema: later sources are not tried, so a
// user never gets diagnostics from a schema they did not ask for.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/schema/schema.h"
#include "core/syntax/diagnostic.h"

namespace amct::syntax {
class Document;
}

namespace amct::schema {

inline constexpr const char* kSchemaHeaderIncomplete = "schema-header-incomplete";
inline constexpr const char* kSchemaHeaderDuplicate = "schema-header-duplicate";
// A header path leaving the allowed folders (see bind_schema): not read.
inline constexpr const char* kSchemaPathOutsideWorkspace = "schema-path-outside-workspace";

class SchemaCache;

struct BindingOptions {
  std::string path;                         // the document's file path ("" if untitled)
  std::string workspace_root;               // "" if none
  std::vector<std::string> import_roots;    // -I DIR / settings
  std::optional<std::string> proto_file;    // --proto / settings mapping
  std::optional<std::string> message_name;  // --message / settings mapping
  SchemaCache* cache = nullptr;             // null: the process-wide default_schema_cache()
};

enum class BindingSource {
  None,                 // no schema: syntax checking only
  Header,               // `# proto-file:` / `# proto-message:` headers
  Options,              // proto_file / message_name options
  BuiltinByExtension,   // AMCT schema because the file is a `.cfg`
  BuiltinByFieldNames,  // AMCT schema because the top-level names are AMCT's
};

struct SchemaBinding {
  std::optional<Schema> schema;
  BindingSource source = BindingSource::None;
  std::vector<Diagnostic> diagnostics;  // on the header's range, or at offset 0 for options
};

// What binding needs from a document, extracted from its tree (so the
// decision itself is testable and cheap).
struct SchemaHeader {
  std::string key;    // "proto-file", "proto-message", "proto-import", "soc", "amct-api"
  std::string value;  // trimmed; "" if missing
  ByteRange range;    // the whole header comment
};

struct DocumentOutline {
  std::vector<SchemaHeader> headers;          // in source order
  std::vector<std::string> top_level_fields;  // distinct top-level field names, first-seen order
};

DocumentOutline outline_of(const syntax::Document& document);

SchemaBinding bind_schema(const DocumentOutline& outline, const BindingOptions& options);
SchemaBinding bind_schema(const syntax::Document& document, const BindingOptions& options);

// True when the names look like an AMCT config: at least one distinctive
// AMCTRetrainConfig field (any but the generic `batch_num`), and at least
// half of the distinct names are AMCTRetrainConfig fields (so a config with a
// typo is still recognised and its typo reported).
bool looks_like_amct(const std::vector<std::string>& top_level_fields);

// Loaded .proto schemas keyed by (file, message, import roots, extra files),
// valid while the mtime and size of every file read for it are unchanged:
// the server re-binds on every keystroke. Failures are not cached (the fix is
// usually a file the user is about to create). Thread-safe.
class SchemaCache {
 public:
  LoadResult load(const std::string& proto_file, const std::string& message_name,
                  const LoadOptions& options);
  struct Stats {
    size_t hits = 0;
    size_t misses = 0;
  };
  Stats stats() const;
  void clear();

 private:
  struct FileStamp {
    std::string path;
    long long mtime_ns = 0;
    long long size = -1;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };
  struct Entry {
    std::string key;
    std::vector<FileStamp> stamps;
    LoadResult result;
  };
  static FileStamp stamp_of(const std::string& path);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // few schemas per workspace: a linear scan is fine
  Stats stats_;
};

SchemaCache& default_schema_cache();

}  // namespace amct::schema
