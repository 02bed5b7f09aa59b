#pragma once
// amct-lsp --resolve CFG --layer NAME [--type TYPE] [--format text|json]
//                       [--soc SOC] [--api quant|prune|compressed]
// The effective configuration of one layer after AMCT's precedence rules, and
// which block each setting came from (core/amct/resolver.h).
//
// Exit status: 0 resolved and the config has no errors; 1 resolved, but the
// config has errors (AMCT would reject it: syntax, schema or AMCT rules; they
// are listed on stderr and the resolution is still printed); 2 usage error or
// the file cannot be read (bad arguments, including an unknown --soc or --api
// value; a bad `# soc:` header is a config error, exit 1).
//
// JSON (one object on stdout):
// {"layer": str, "type": str|null,
//  "quant": {"enabled": bool,
//            "data": {"algo": "ulq_quantize", "dst_type": "INT8", "clip_max": num|null,
//                     "clip_min": num|null, "fixed_min": bool|null, "source": SOURCE} | null,
//            "weight": {"algo": "arq_retrain"|"ulq_retrain", "dst_type": str,
//                       "channel_wise": bool|null, "source": SOURCE} | null},
//  "prune": {"enabled": bool, "algo": "balanced_l2_norm_filter_prune"|"l1_selective_prune"|null,
//            "prune_ratio": num|null, "ascend_optimized": bool|null,
//            "n_out_of_m_type": str|null, "update_freq": int|null, "source": SOURCE|null},
//  "skipped_by": [{"list": "skip_layers", "value": str, "line": N,
//                  "disables": ["quant"|"prune", ...]}]}
// SOURCE = {"block": "override_layer_configs"|"override_layer_types"|"global"|"default",
//           "line": N|null}   (1-based line of the block's field name; null for defaults)
// data/weight are null when quantization is off; the prune settings and source
// are null when pruning is off. "disables" is empty when an override won.
#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "core/amct/resolver.h"
#include "core/syntax/document.h"

namespace amct::server {

// `args` are the command-line arguments after the program name, e.g.
// {"--resolve", "quant.cfg", "--layer", "conv1", "--format", "json"}.
int run_resolve_command(const std::vector<std::string>& args);
int run_resolve_command(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err);

// Keys in the order documented above.
nlohmann::ordered_json resolution_to_json(const LayerResolution& resolution,
                                          const syntax::Document& document);
std::string resolution_to_text(const LayerResolution& resolution,
                               const syntax::Document& document);

}  // namespace amct::server
