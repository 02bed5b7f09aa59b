#pragma once
// Conversions between core/ structs and LSP JSON. The only place that knows
// both; features in core/ide return plain structs.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/syntax/diagnostic.h"
#include "core/syntax/document.h"

namespace amct::server {

std::string uri_to_path(const std::string& uri);
std::string path_to_uri(const std::string& path);

nlohmann::json range_to_json(const syntax::Range& range);
syntax::Range range_from_json(const nlohmann::json& range);
nlohmann::json diagnostics_to_json(const syntax::Document& document, const std::string& uri,
                                   const std::vector<Diagnostic>& diagnostics,
                                   syntax::PositionEncoding encoding);

// The `capabilities` of the initialize result: every feature the server binds.
nlohmann::json server_capabilities(syntax::PositionEncoding encoding);

}  // namespace amct::server
