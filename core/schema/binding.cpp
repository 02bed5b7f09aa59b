#include "core/schema/binding.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <system_error>


namespace amct::schema {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxCachedSchemas = 64;

bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

struct Resolved {
  std::optional<std::string> path;
  std::vector<std::string> searched;
  std::vector<std::string> outside;  // candidates refused: they leave the allowed folders
};

// The real location of `path` (symlinks followed, `..` removed; the missing
// tail kept as written), or "" when it cannot be determined.
std::string real_path(const fs::path& path) {
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error);
  if (error) return "";
  const fs::path real = fs::weakly_canonical(absolute, error);
  return error ? "" : real.lexically_normal().string();
}

bool is_inside(const std::string& path, const std::string& folder) {
  if (path.empty() || folder.empty()) return false;
  if (folder == "/") return path.starts_with("/");
  return path == folder || (path.starts_with(folder) && path[folder.size()] == '/');
}

// Where header paths (`# proto-file:`, `# proto-import:`) may point: the
// document's own folder, the workspace root and the import roots, each with
// what is below it, after following symlinks. A config from anywhere must
// not make the server read files outside what the user opened or configured.
struct AllowedFolders {
  std::vector<std::string> real;  // real paths of the allowed folders
  bool contains(const fs::path& candidate) const {
    const std::string path = real_path(candidate);
    return std::any_of(real.begin(), real.end(), [&](const std::string& folder) { return is_inside(path, folder); });
  }
};

// A relative path is tried against each base in order; the first existing
// file wins. With `allowed`, candidates outside those folders are refused
// before they are looked at (not even their existence is tested).
Resolved resolve(const std::string& written, const std::vector<std::string>& bases,
                 const AllowedFolders* allowed = nullptr) {
  Resolved resolved;
  const fs::path path(written);
  if (path.is_absolute()) {
    if (allowed != nullptr && !allowed->contains(path)) {
      resolved.outside.push_back(written);
      return resolved;
    }
    resolved.searched.push_back(written);
    if (is_file(path)) resolved.path = written;
    return resolved;
  }
  for (const std::string& base : bases) {
    const fs::path candidate = base.empty() ? path : fs::path(base) / path;
    std::string text = candidate.lexically_normal().string();
    if (std::find(resolved.searched.begin(), resolved.searched.end(), text) !=
        resolved.searched.end()) {
      continue;
    }
    if (allowed != nullptr && !allowed->contains(candidate)) {
      resolved.outside.push_back(text);
      continue;
    }
    resolved.searched.push_back(text);
    if (is_file(candidate)) {
      resolved.path = std::move(text);
      return resolved;
    }
  }
  return resolved;
}

std::string not_found_message(const std::string& written, const Resolved& resolved) {
  std::string text = "proto file '" + written + "' not found (searched ";
  for (size_t i = 0; i < resolved.searched.size(); ++i) {
    if (i > 0) text += ", ";
    text += "'" + resolved.searched[i] + "'";
  }
  return text + ")";
}

// The diagnostic for a header path that found no file: outside the allowed
// folders (when that is why), else not found.
Diagnostic unresolved_diagnostic(ByteRange range, const std::string& written, const Resolved& resolved);

std::string document_folder(const BindingOptions& options) {
  if (options.path.empty()) return "";
  std::string folder = fs::path(options.path).parent_path().string();
  return folder.empty() ? "." : folder;
}

LoadOptions load_options_for(const BindingOptions& options) {
  LoadOptions load;
  load.import_roots = options.import_roots;
  if (!options.workspace_root.empty()) load.import_roots.push_back(options.workspace_root);
  return load;
}

Diagnostic diagnostic(ByteRange range, Severity severity, std::string code, std::string message) {
  Diagnostic result;
  result.range = range;
  result.severity = severity;
  result.code = std::move(code);
  result.message = std::move(message);
  return result;
}

// A message of the built-in AMCT file by name (for `# proto-message: PruneConfig`
// fragments, or `--message AMCTRetrainConfig` without --proto).
std::optional<Schema> builtin_message(const std::string& name) {
  const Schema& amct = amct_schema();
  if (amct.pool == nullptr) return std::nullopt;
  const google::protobuf::Descriptor* root = amct.pool->FindMessageTypeByName(name);
  if (root == nullptr) return std::nullopt;
  Schema schema = amct;
  schema.root = root;
  schema.is_amct = root == amct.root;  // AMCT's rules are about whole configs only
  schema.description = root->full_name() + " (built-in)";
  return schema;
}

SchemaCache& cache_of(const BindingOptions& options) {
  return options.cache != nullptr ? *options.cache : default_schema_cache();
}

const SchemaHeader* first_header(const DocumentOutline& outline, std::string_view key) {
  for (const SchemaHeader& header : outline.headers) {
    if (header.key == key) return &header;
  }
  return nullptr;
}

SchemaBinding bind_from_headers(const DocumentOutline& outline, const BindingOptions& options) {
  SchemaBinding binding;
  binding.source = BindingSource::Header;
  const SchemaHeader* file_header = first_header(outline, "proto-file");
  const SchemaHeader* message_header = first_header(outline, "proto-message");
  for (const SchemaHeader& header : outline.headers) {
    const SchemaHeader* first = first_header(outline, header.key);
    if ((header.key == "proto-file" || header.key == "proto-message") && first != &header) {
      binding.diagnostics.push_back(diagnostic(
          header.range, Severity::Warning, kSchemaHeaderDuplicate,
          "a second '# " + header.key + ":' header is ignored; the first one (\"" +
              first->value + "\") applies"));
    }
  }

  if (file_header != nullptr && file_header->value.empty()) {
    binding.diagnostics.push_back(diagnostic(file_header->range, Severity::Error,
                                             kSchemaHeaderIncomplete,
                                             "'# proto-file:' needs the path of a .proto file"));
    return binding;
  }
  if (message_header != nullptr && message_header->value.empty()) {
    binding.diagnostics.push_back(
        diagnostic(message_header->range, Severity::Error, kSchemaHeaderIncomplete,
                   "'# proto-message:' needs the full name of the root message, e.g. "
                   "'# proto-message: pkg.Config'"));
    return binding;
  }

  const std::string folder = document_folder(options);
  std::vector<std::string> bases;
  if (!folder.empty()) bases.push_back(folder);
  if (!options.workspace_root.empty()) bases.push_back(options.workspace_root);
  bases.insert(bases.end(), options.import_roots.begin(), options.import_roots.end());
  if (folder.empty()) bases.push_back("");  // untitled buffer: relative to the working directory
  AllowedFolders allowed;
  for (const std::string& base : bases)
    if (std::string real = real_path(base.empty() ? fs::path(".") : fs::path(base)); !real.empty())
      allowed.real.push_back(std::move(real));

  if (file_header == nullptr) {
    // `# proto-message:` alone: the --proto file if given, else a built-in message.
    if (options.proto_file) {
      const Resolved resolved = resolve(*options.proto_file, bases);
      if (!resolved.path) {
        binding.diagnostics.push_back(diagnostic(message_header->range, Severity::Error,
                                                 kSchemaFileNotFound,
                                                 not_found_message(*options.proto_file, resolved)));
        return binding;
      }
      LoadResult loaded =
          cache_of(options).load(*resolved.path, message_header->value, load_options_for(options));
      if (loaded.error) {
        binding.diagnostics.push_back(diagnostic(message_header->range, Severity::Error,
                                                 loaded.error->code, loaded.error->message));
        return binding;
      }
      binding.schema = std::move(loaded.schema);
      return binding;
    }
    if (std::optional<Schema> builtin = builtin_message(message_header->value)) {
      binding.schema = std::move(builtin);
      return binding;
    }
    binding.diagnostics.push_back(diagnostic(
        message_header->range, Severity::Error, kSchemaHeaderIncomplete,
        "'" + message_header->value +
            "' is not a built-in AMCT message: add '# proto-file: path/to/file.proto' naming "
            "the .proto that defines it"));
    return binding;
  }

  const Resolved resolved = resolve(file_header->value, bases, &allowed);
  if (!resolved.path) {
    binding.diagnostics.push_back(unresolved_diagnostic(file_header->range, file_header->value, resolved));
    return binding;
  }
  LoadOptions load = load_options_for(options);
  for (const SchemaHeader& header : outline.headers) {
    if (header.key != "proto-import") continue;
    if (header.value.empty()) {
      binding.diagnostics.push_back(diagnostic(header.range, Severity::Error,
                                               kSchemaHeaderIncomplete,
                                               "'# proto-import:' needs the path of a .proto file"));
      return binding;
    }
    const Resolved import = resolve(header.value, bases, &allowed);
    if (!import.path) {
      binding.diagnostics.push_back(unresolved_diagnostic(header.range, header.value, import));
      return binding;
    }
    load.extra_files.push_back(*import.path);
  }

  const std::string message = message_header != nullptr ? message_header->value : "";
  LoadResult loaded = cache_of(options).load(*resolved.path, message, load);
  if (message_header == nullptr) {
    // Name the messages the file offers, so the fix is one copy away.
    std::string text = "'# proto-file:' needs a '# proto-message:' header naming the root message";
    if (loaded.error && loaded.error->code == std::string(kSchemaMessageNotFound)) {
      const std::string& found = loaded.error->message;
      const size_t available = found.find("Available:");
      if (available != std::string::npos) text += "; " + found.substr(available);
      binding.diagnostics.push_back(
          diagnostic(file_header->range, Severity::Error, kSchemaHeaderIncomplete, text));
    } else if (loaded.error) {
      binding.diagnostics.push_back(diagnostic(file_header->range, Severity::Error,
                                               loaded.error->code, loaded.error->message));
    }
    return binding;
  }
  if (loaded.error) {
    const bool about_message = loaded.error->code == std::string(kSchemaMessageNotFound);
    binding.diagnostics.push_back(
        diagnostic(about_message ? message_header->range : file_header->range, Severity::Error,
                   loaded.error->code, loaded.error->message));
    return binding;
  }
  binding.schema = std::move(loaded.schema);
  return binding;
}

Diagnostic unresolved_diagnostic(ByteRange range, const std::string& written, const Resolved& resolved) {
  if (!resolved.outside.empty()) {
    return diagnostic(range, Severity::Error, kSchemaPathOutsideWorkspace,
                      "'" + written +
                          "' is outside the document's folder, the workspace and the import roots; "
                          "it is not read (add its folder to the import roots: -I DIR / amct.importRoots)");
  }
  return diagnostic(range, Severity::Error, kSchemaFileNotFound, not_found_message(written, resolved));
}

SchemaBinding bind_from_options(const BindingOptions& options) {
  SchemaBinding binding;
  binding.source = BindingSource::Options;
  const ByteRange start{0, 0};
  if (!options.proto_file) {
    const std::string& message = *options.message_name;
    if (std::optional<Schema> builtin = builtin_message(message)) {
      binding.schema = std::move(builtin);
    } else {
      binding.diagnostics.push_back(diagnostic(
          start, Severity::Error, kSchemaMessageNotFound,
          "message '" + message + "' is not a built-in AMCT message; give the .proto that "
                                  "defines it (--proto FILE)"));
    }
    return binding;
  }
  std::vector<std::string> bases{""};
  if (!options.workspace_root.empty()) bases.push_back(options.workspace_root);
  bases.insert(bases.end(), options.import_roots.begin(), options.import_roots.end());
  const Resolved resolved = resolve(*options.proto_file, bases);
  if (!resolved.path) {
    binding.diagnostics.push_back(diagnostic(start, Severity::Error, kSchemaFileNotFound,
                                             not_found_message(*options.proto_file, resolved)));
    return binding;
  }
  LoadResult loaded = cache_of(options).load(*resolved.path, options.message_name.value_or(""),
                                             load_options_for(options));
  if (loaded.error) {
    binding.diagnostics.push_back(
        diagnostic(start, Severity::Error, loaded.error->code, loaded.error->message));
    return binding;
  }
  binding.schema = std::move(loaded.schema);
  return binding;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

bool looks_like_amct(const std::vector<std::string>& top_level_fields) {
  const Schema& amct = amct_schema();
  if (amct.root == nullptr) return false;
  std::set<std::string_view> distinct(top_level_fields.begin(), top_level_fields.end());
  size_t known = 0;
  bool distinctive = false;
  for (std::string_view name : distinct) {
    if (amct.root->FindFieldByName(std::string(name)) == nullptr) continue;
    ++known;
    if (name != "batch_num") distinctive = true;
  }
  return distinctive && known * 2 >= distinct.size();
}

SchemaBinding bind_schema(const DocumentOutline& outline, const BindingOptions& options) {
  if (first_header(outline, "proto-file") != nullptr ||
      first_header(outline, "proto-message") != nullptr) {
    return bind_from_headers(outline, options);
  }
  std::vector<Diagnostic> notes;
  if (const SchemaHeader* import = first_header(outline, "proto-import")) {
    notes.push_back(diagnostic(import->range, Severity::Warning, kSchemaHeaderIncomplete,
                               "'# proto-import:' is ignored without a '# proto-file:' and "
                               "'# proto-message:' header"));
  }
  SchemaBinding binding;
  if (options.proto_file || options.message_name) {
    binding = bind_from_options(options);
  } else if (ends_with(options.path, ".cfg")) {
    binding.schema = amct_schema();
    binding.source = BindingSource::BuiltinByExtension;
  } else if (looks_like_amct(outline.top_level_fields)) {
    binding.schema = amct_schema();
    binding.source = BindingSource::BuiltinByFieldNames;
  }
  binding.diagnostics.insert(binding.diagnostics.begin(), notes.begin(), notes.end());
  return binding;
}

// --- cache

SchemaCache::FileStamp SchemaCache::stamp_of(const std::string& path) {
  FileStamp stamp;
  stamp.path = path;
  std::error_code error;
  const auto time = fs::last_write_time(path, error);
  if (!error) {
    stamp.mtime_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  }
  const auto size = fs::file_size(path, error);
  if (!error) stamp.size = static_cast<long long>(size);
  return stamp;
}

LoadResult SchemaCache::load(const std::string& proto_file, const std::string& message_name,
                             const LoadOptions& options) {
  std::error_code error;
  fs::path absolute = fs::absolute(fs::path(proto_file), error);
  if (error) absolute = fs::path(proto_file);
  const std::string main_file = absolute.lexically_normal().string();
  std::string key = main_file + '\n' + message_name;
  for (const std::string& root : options.import_roots) key += "\n-I" + root;
  for (const std::string& extra : options.extra_files) key += "\n+" + extra;

  {
    std::lock_guard lock(mutex_);
    const auto found = std::find_if(entries_.begin(), entries_.end(),
                                    [&key](const Entry& entry) { return entry.key == key; });
    if (found != entries_.end()) {
      const bool fresh = std::all_of(found->stamps.begin(), found->stamps.end(),
                                     [](const FileStamp& stamp) {
                                       return stamp_of(stamp.path) == stamp;
                                     });
      if (fresh) {
        ++stats_.hits;
        // Most recently used at the back: eviction takes the front.
        std::rotate(found, found + 1, entries_.end());
        return entries_.back().result;
      }
      entries_.erase(found);
    }
    ++stats_.misses;
  }

  // Stamp before reading: an edit during the load makes the entry stale, not wrong.
  std::vector<FileStamp> stamps{stamp_of(main_file)};
  LoadResult result = load_schema(proto_file, message_name, options);
  if (!result.schema) return result;
  std::set<std::string> stamped{main_file};  // a set: an import graph may hold 10,000 files
  for (const std::string& file : result.files) {
    FileStamp stamp = stamp_of(file);
    if (stamped.insert(file).second) {
      stamps.push_back(std::move(stamp));
    }
  }

  std::lock_guard lock(mutex_);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&key](const Entry& entry) { return entry.key == key; }),
                 entries_.end());
  if (entries_.size() >= kMaxCachedSchemas) entries_.erase(entries_.begin());
  entries_.push_back(Entry{std::move(key), std::move(stamps), result});
  return result;
}

SchemaCache::Stats SchemaCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void SchemaCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  stats_ = {};
}

SchemaCache& default_schema_cache() {
  static SchemaCache cache;
  return cache;
}

}  // namespace amct::schema
