#pragma once
// amct-lsp --estimate CFG --weights FILE [--manifest JSON] [--soc SOC]
//          [--api quant|prune|compressed] [--format text|json]
//          [--activations DIR] [--jobs N]
// Every layer of the model with its effective config (core/amct/resolver.h,
// skips honoured) and the error of that config on the layer's real weights
// (core/engine/estimate.h), plus a summary.
//
// Exit status: 0 estimated and the config has no errors; 1 estimated, but the
// config has errors (listed on stderr; AMCT would reject it); 2 usage error,
// unreadable config, or a weights/manifest file that cannot be loaded
// (truncated, oversized header, inconsistent offsets, ...).
//
// Text: a table sorted by relative error (largest first) with a bar per
// layer, then the summary. A progress bar goes to stderr when stderr is a
// terminal and the model has more than 10M parameters.
//
// JSON (one object on stdout):
// {"model": {"path", "format", "layers", "parameters"}, "notices": [str],
//  "layers": [{"name", "type", "type_inferred": bool, "shape": [int], "groups": int,
//              "config": <the --resolve JSON of the layer>,
//              "quant": {"algo", "dst_type", "channel_wise", "rel_l2", "sqnr_db"|null,
//                        "cosine", "max_abs"} | null,
//              "prune": {"algo", "kept", "total", "energy_removed", "params_pruned"} | null,
//              "activation": {"dst_type", "step"|null, "noise_rms"|null,
//                             "measured": {"rel_l2", "sqnr_db", "max_abs"}|null} | null,
//              "notes": [str], "problem": str|null}],
//  "summary": {"layers", "quantized_layers", "pruned_layers", "untouched_layers",
//              "parameters", "parameters_pruned", "mean_sqnr_db"|null, "overall_rel_l2",
//              "worst_layers": [str]}}
// With pruning and quantization, "quant" measures the pruned-then-quantized
// weight against the original (the total cost); "prune" the pruning alone.
// sqnr_db is null when the weight is reproduced exactly.
#include <ostream>
#include <string>
#include <vector>

namespace amct::server {

int run_estimate_command(const std::vector<std::string>& args);
int run_estimate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace amct::server
