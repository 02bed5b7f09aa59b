#include "server/lsp_convert.h"

#include <cctype>
#include <cstdio>

namespace amct::server {

using nlohmann::json;

std::string uri_to_path(const std::string& uri) {
  std::string_view rest = uri;
  if (!rest.starts_with("file://")) return uri;
  rest.remove_prefix(7);
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      path.push_back(static_cast<char>(std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      path.push_back(rest[i]);
    }
  }
  return path;
}

std::string path_to_uri(const std::string& path) {
  std::string uri = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri.push_back(static_cast<char>(c));
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      uri += escaped;
    }
  }
  return uri;
}

json range_to_json(const syntax::Range& range) {
  return {{"start", {{"line", range.start.line}, {"character", range.start.character}}},
          {"end", {{"line", range.end.line}, {"character", range.end.character}}}};
}

syntax::Range range_from_json(const json& range) {
  auto position = [](const json& p) {
    const int64_t line = p.at("line").get<int64_t>();
    const int64_t character = p.at("character").get<int64_t>();
    return syntax::Position{static_cast<uint32_t>(std::clamp<int64_t>(line, 0, UINT32_MAX)),
                            static_cast<uint32_t>(std::clamp<int64_t>(character, 0, UINT32_MAX))};
  };
  return {position(range.at("start")), position(range.at("end"))};
}

json diagnostics_to_json(const syntax::Document& document, const std::string& uri,
                         const std::vector<Diagnostic>& diagnostics, syntax::PositionEncoding encoding) {
  json out = json::array();
  for (const Diagnostic& d : diagnostics) {
    json item = {{"range", range_to_json(document.range_of(d.range, encoding))},
                 {"severity", static_cast<int>(d.severity)},
                 {"code", d.code},
                 {"source", "amct-lsp"},
                 {"message", d.message}};
    if (!d.related.empty()) {
      json related = json::array();
      for (const RelatedInformation& r : d.related)
        related.push_back({{"location", {{"uri", uri}, {"range", range_to_json(document.range_of(r.range, encoding))}}},
                           {"message", r.message}});
      item["relatedInformation"] = std::move(related);
    }
    out.push_back(std::move(item));
  }
  return out;
}

json server_capabilities(syntax::PositionEncoding encoding) {
  return {
      {"positionEncoding", encoding == syntax::PositionEncoding::Utf8 ? "utf-8" : "utf-16"},
      {"textDocumentSync", {{"openClose", true}, {"change", 2 /* incremental */}, {"save", {{"includeText", false}}}}},
      {"diagnosticProvider", {{"interFileDependencies", false}, {"workspaceDiagnostics", false}}},
  };
}

}  // namespace amct::server
