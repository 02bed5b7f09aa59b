#pragma once
// The built-in AMCT schema as a file editors can open (go to definition):
// written once under the user cache directory, the only place the server
// writes to.
#include <optional>
#include <string>

namespace amct::server {

// $XDG_CACHE_HOME/amct-lsp (or ~/.cache/amct-lsp), created if missing.
std::optional<std::string> cache_directory();

// Path of retrain_config.proto in the cache, written if missing or stale.
std::optional<std::string> materialize_builtin_proto();

}  // namespace amct::server
