#include "server/check_codes.h"

#include "core/embedded_files.h"

namespace amct::server {
namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

std::vector<DiagnosticCodeInfo> parse_diagnostic_codes(std::string_view tsv) {
  std::vector<DiagnosticCodeInfo> codes;
  for (std::string_view line : split(tsv, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> fields = split(line, '\t');
    if (fields.size() < 4 || fields[0].empty()) continue;
    codes.push_back({std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                     std::string(fields[3])});
  }
  return codes;
}

const std::vector<DiagnosticCodeInfo>& diagnostic_codes() {
  static const std::vector<DiagnosticCodeInfo> codes =
      parse_diagnostic_codes(embedded::find("diagnostic_codes.tsv").value_or(""));
  return codes;
}

const DiagnosticCodeInfo* find_diagnostic_code(std::string_view code) {
  for (const DiagnosticCodeInfo& info : diagnostic_codes()) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

}  // namespace amct::server
