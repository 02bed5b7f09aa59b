#include "server/diagnostic_docs.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "server/builtin_proto.h"
#include "server/check_codes.h"
#include "server/lsp_convert.h"

namespace amct::server {

namespace fs = std::filesystem;

std::string diagnostics_markdown() {
  std::string out =
      "# amct-lsp diagnostics\n\n"
      "<!-- Generated from data/diagnostic_codes.tsv; do not edit by hand. To regenerate: "
      "AMCT_WRITE_DIAGNOSTICS_DOCS=1 ./build/amct_tests \"[diagnostic-docs]\" -->\n\n"
      "Every diagnostic of `amct-lsp` (editor and `--check`) carries one of these stable codes. "
      "Editors link each diagnostic to its section here.\n\n"
      "| code | level | what |\n|---|---|---|\n";
  for (const DiagnosticCodeInfo& info : diagnostic_codes())
    out += "| [`" + info.code + "`](#" + info.code + ") | " + info.level + " | " + info.short_description + " |\n";
  for (const DiagnosticCodeInfo& info : diagnostic_codes())
    out += "\n## " + info.code + "\n\n**" + info.short_description + "** (default level: " + info.level + ")\n\n" +
           info.help + "\n";
  return out;
}

std::string diagnostic_docs_href(std::string_view base, std::string_view code) {
  if (base.empty() || find_diagnostic_code(code) == nullptr) return "";
  return std::string(base) + "#" + std::string(code);
}

std::string default_diagnostics_docs_base() {
  static std::mutex mutex;
  static std::optional<std::string> base;
  std::lock_guard lock(mutex);
  if (base) return *base;
  base = "";
  const auto directory = cache_directory();
  if (!directory) return *base;
  const fs::path path = fs::path(*directory) / "diagnostics.md";
  const std::string text = diagnostics_markdown();
  {
    std::ifstream existing(path, std::ios::binary);
    std::stringstream contents;
    contents << existing.rdbuf();
    if (existing && contents.str() == text) return *base = path_to_uri(path.string());
  }
  // A temporary file renamed into place: readers never see half a page.
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) return *base;
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (!error) base = path_to_uri(path.string());
  return *base;
}

}  // namespace amct::server
