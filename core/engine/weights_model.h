#pragma once
// Loading a model's weights for the reference engine: safetensors, ONNX, a
// layer manifest for names/types, and .npy activation samples. Files are
// memory-mapped and validated before any tensor byte is read; a hostile or
// inconsistent file gives an error message, never a crash.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine/mapped_file.h"
#include "core/engine/tensor.h"

namespace amct::engine {

// One compressible layer: a weight of rank >= 2 and its PyTorch module type.
struct ModelLayer {
  std::string name;          // PyTorch module name, "layer1.0.conv1"
  std::string type;          // PyTorch class name, "Conv2d", "Linear", ...
  bool type_inferred = false;  // from the weight's rank, not from the file or a manifest
  int64_t groups = 1;        // Conv groups (ONNX attribute or manifest)
  // Output channels are on axis 1 of `weight` (ConvTranspose, ONNX MatMul and
  // Gemm with transB=0): the kernels transpose the first two axes first.
  bool output_axis_is_1 = false;
  TensorView weight;
};

struct WeightsModel {
  std::string format;  // "safetensors", "onnx"
  std::vector<ModelLayer> layers;  // file order
  std::vector<std::string> notices;  // inferred types, ignored tensors, manifest mismatches
  // Keeps the mapping (and any converted typed-field data) alive for the views.
  std::shared_ptr<const MappedFile> file;
  std::shared_ptr<std::deque<std::vector<unsigned char>>> owned;

  const ModelLayer* find(std::string_view name) const;
  uint64_t parameter_count() const;
};

struct LoadResult {
  std::optional<WeightsModel> model;
  std::string error;  // set when model is empty: "<file>: <what is wrong>"
};

// ---- safetensors -------------------------------------------------------------

struct SafetensorsLimits {
  uint64_t max_header_bytes = 100ull << 20;  // 100 MB
};

struct SafetensorsTensor {
  std::string name;
  std::string dtype_name;  // as written ("F32", "I64", ...)
  std::optional<DType> dtype;  // set for F32/F16/BF16
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // absolute file offsets
};

struct SafetensorsIndex {
  std::vector<SafetensorsTensor> tensors;  // header order
  std::string error;                        // set when the header is invalid
};

// Validates the header of a safetensors file held in `bytes`.
SafetensorsIndex read_safetensors_index(std::string_view bytes,
                                        const SafetensorsLimits& limits = {});

// ---- layer manifest --------------------------------------------------------------

struct ManifestLayer {
  std::string name;
  std::string type;
  std::optional<std::vector<int64_t>> weight_shape;
  int64_t groups = 1;
};

struct LayerManifest {
  std::vector<ManifestLayer> layers;
  std::string error;
};

// {"layers":[{"name":"conv1","type":"Conv2d","weight_shape":[64,3,7,7],"groups":1}, ...]}
// "weight_shape" and "groups" are optional. Written from a PyTorch model by:
//
//   import json, torch
//   def write_manifest(model: torch.nn.Module, path: str):
//       layers = []
//       for name, module in model.named_modules():
//           weight = getattr(module, "weight", None)
//           if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
//               layers.append({"name": name, "type": type(module).__name__,
//                              "weight_shape": list(weight.shape),
//                              "groups": getattr(module, "groups", 1)})
//       with open(path, "w") as f:
//           json.dump({"layers": layers}, f, indent=1)
//
// (and the weights: `safetensors.torch.save_file(model.state_dict(), "model.safetensors")`).
LayerManifest parse_layer_manifest(std::string_view text);

// ---- ONNX ----------------------------------------------------------------------

// Layers of an ONNX model (Conv, ConvTranspose, Gemm, MatMul nodes whose weight
// input is an initializer), read by a protobuf wire-format reader over the
// mapped bytes: raw_data tensors are views into the file, not copies.
LoadResult read_onnx_model(std::shared_ptr<const MappedFile> file);

// ---- loading -------------------------------------------------------------------

// "Conv2d" for rank 4, "Linear" for 2, "Conv1d" for 3, "Conv3d" for 5; "" otherwise.
std::string type_from_rank(size_t rank);

struct LoadOptions {
  std::string weights_path;
  std::optional<std::string> manifest_path;
  SafetensorsLimits safetensors;
};

// The format is chosen by extension (.onnx, .safetensors), else by content.
LoadResult load_weights(const LoadOptions& options);

// A manifest's text, and its path for messages.
struct ManifestText {
  std::string path;
  std::string text;
};

// load_weights() of a file already in memory (MappedFile::open or copy_of):
// the format is chosen by the file's path() and content the same way.
LoadResult load_weights(std::shared_ptr<const MappedFile> file, const SafetensorsLimits& limits,
                        const std::optional<ManifestText>& manifest = {});

// ---- .npy activation samples ---------------------------------------------------

struct NpyArray {
  TensorView view;  // F32 or F16, C order
  std::shared_ptr<const MappedFile> file;
};

struct NpyResult {
  std::optional<NpyArray> array;
  std::string error;
};

NpyResult read_npy(const std::string& path);
// The same for a file already in memory (path() names it in messages).
NpyResult read_npy(std::shared_ptr<const MappedFile> file);

}  // namespace amct::engine
