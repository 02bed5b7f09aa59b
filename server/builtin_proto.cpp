#include "server/builtin_proto.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/schema/schema.h"

namespace amct::server {

namespace fs = std::filesystem;

std::optional<std::string> cache_directory() {
  fs::path base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) base = xdg;
  else if (const char* home = std::getenv("HOME"); home && *home) base = fs::path(home) / ".cache";
  else return std::nullopt;
  std::error_code error;
  const fs::path directory = base / "amct-lsp" / AMCT_LSP_VERSION;
  fs::create_directories(directory, error);
  if (error) return std::nullopt;
  return directory.string();
}

std::optional<std::string> materialize_builtin_proto() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  const auto directory = cache_directory();
  if (!directory) return std::nullopt;
  const fs::path path = fs::path(*directory) / "retrain_config.proto";
  const std::string_view text = schema::amct_proto_text();
  {
    std::ifstream existing(path, std::ios::binary);
    std::stringstream contents;
    contents << existing.rdbuf();
    if (existing && contents.str() == text) return path.string();
  }
  // Write a temporary file and rename it: readers never see half a file.
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) return std::nullopt;
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) return std::nullopt;
  return path.string();
}

}  // namespace amct::server
