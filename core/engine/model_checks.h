#pragma once
// Model-aware checks of an AMCT config: what can only be said with the model
// at hand (layer names and types from a weights file or manifest).
//  - model-unknown-layer (warning): a layer name in override_layer_configs or
//    a *_layers skip list that the model does not have, with did-you-mean;
//  - model-channel-wise-linear (error): channel_wise: true reaches a Linear
//    layer of the model (AMCT: "layer can not be channelwised");
//  - model-depthwise-filter-prune (warning): filter pruning reaches a grouped
//    or depthwise Conv2d, which AMCT's channel pruning skips;
//  - model-type-absent (warning): an override_layer_types entry for a type the
//    model does not have;
//  - model-no-layer-left (warning): every layer is skipped or disabled.
// The LSP calls this with the layers of the loaded model (names/types/groups
// only; no tensor is read).
#include <string>
#include <vector>

#include "core/amct/resolver.h"
#include "core/syntax/diagnostic.h"

namespace amct::engine {

struct ModelLayerInfo {
  std::string name;
  std::string type;
  int64_t groups = 1;
};

struct ModelCheckOptions {
  ResolveOptions resolve;
};

std::vector<Diagnostic> check_config_against_model(const AmctConfig& config,
                                                   const std::vector<ModelLayerInfo>& layers,
                                                   const ModelCheckOptions& options = {});

}  // namespace amct::engine
