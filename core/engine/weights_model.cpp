#include "core/engine/weights_model.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "core/engine/strict_json.h"

namespace amct::engine {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Byte size of every dtype the safetensors format defines (so offsets of
// tensors the engine does not read can still be validated).
std::optional<uint64_t> safetensors_dtype_size(std::string_view name) {
  static const std::map<std::string_view, uint64_t> sizes = {
      {"F64", 8}, {"I64", 8}, {"U64", 8}, {"F32", 4}, {"I32", 4},     {"U32", 4},
      {"F16", 2}, {"BF16", 2}, {"I16", 2}, {"U16", 2}, {"I8", 1},      {"U8", 1},
      {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  auto it = sizes.find(name);
  if (it == sizes.end()) return std::nullopt;
  return it->second;
}

std::optional<std::vector<int64_t>> int_list(const JsonValue& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<int64_t> out;
  for (const JsonValue& item : value.items()) {
    std::optional<uint64_t> n = item.as_uint64();
    if (!n || *n > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    out.push_back(static_cast<int64_t>(*n));
  }
  return out;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

const ModelLayer* WeightsModel::find(std::string_view name) const {
  for (const ModelLayer& layer : layers) {
    if (layer.name == name) return &layer;
  }
  return nullptr;
}

uint64_t WeightsModel::parameter_count() const {
  uint64_t total = 0;
  for (const ModelLayer& layer : layers) total += layer.weight.elements;
  return total;
}

std::string type_from_rank(size_t rank) {
  switch (rank) {
    case 2: return "Linear";
    case 3: return "Conv1d";
    case 4: return "Conv2d";
    case 5: return "Conv3d";
    default: return "";
  }
}

// ---- safetensors ---------------------------------------------------------------

SafetensorsIndex read_safetensors_index(std::string_view bytes, const SafetensorsLimits& limits) {
  SafetensorsIndex index;
  auto fail = [&](std::string message) {
    index.tensors.clear();
    index.error = std::move(message);
    return index;
  };
  if (bytes.size() < 8) return fail("truncated: " + std::to_string(bytes.size()) +
                                    " bytes, a safetensors file starts with an 8-byte header length");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
  if (header_length > limits.max_header_bytes) {
    return fail("header length " + std::to_string(header_length) + " exceeds the limit of " +
                std::to_string(limits.max_header_bytes) + " bytes");
  }
  if (header_length > bytes.size() - 8) {
    return fail("truncated: the header claims " + std::to_string(header_length) +
                " bytes but the file has " + std::to_string(bytes.size() - 8) + " after the length");
  }
  const JsonParseResult parsed = parse_json(bytes.substr(8, header_length));
  if (!parsed.value) return fail("header is not valid JSON (" + parsed.error + ")");
  if (!parsed.value->is_object()) return fail("header is not a JSON object");

  const uint64_t data_start = 8 + header_length;
  const uint64_t data_size = bytes.size() - data_start;
  for (const auto& [name, entry] : parsed.value->members()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor " + quoted(name);
    if (!entry.is_object()) return fail(where + ": entry is not an object");
    const JsonValue* dtype = entry.find("dtype");
    const JsonValue* shape = entry.find("shape");
    const JsonValue* offsets = entry.find("data_offsets");
    if (!dtype || !dtype->is_string()) return fail(where + ": missing string \"dtype\"");
    if (!shape) return fail(where + ": missing \"shape\"");
    if (!offsets) return fail(where + ": missing \"data_offsets\"");
    SafetensorsTensor tensor;
    tensor.name = name;
    tensor.dtype_name = dtype->as_string();
    tensor.dtype = parse_dtype(tensor.dtype_name);
    const std::optional<uint64_t> element_size = safetensors_dtype_size(tensor.dtype_name);
    if (!element_size) return fail(where + ": unknown dtype " + quoted(tensor.dtype_name));
    std::optional<std::vector<int64_t>> dims = int_list(*shape);
    if (!dims) return fail(where + ": \"shape\" must be a list of non-negative integers");
    tensor.shape = *dims;
    std::optional<std::vector<int64_t>> range = int_list(*offsets);
    if (!range || range->size() != 2) {
      return fail(where + ": \"data_offsets\" must be [begin, end] (non-negative integers)");
    }
    const uint64_t begin = static_cast<uint64_t>((*range)[0]);
    const uint64_t end = static_cast<uint64_t>((*range)[1]);
    if (begin > end) return fail(where + ": data_offsets begin > end");
    if (end > data_size) {
      return fail(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  "] run past the end of the data section (" + std::to_string(data_size) +
                  " bytes; file truncated?)");
    }
    const std::optional<uint64_t> count = element_count(tensor.shape, UINT64_MAX / *element_size);
    if (!count) return fail(where + ": shape " + shape_text(tensor.shape) + " overflows");
    if (*count * *element_size != end - begin) {
      return fail(where + ": " + std::to_string(end - begin) + " bytes for shape " +
                  shape_text(tensor.shape) + " of " + tensor.dtype_name + " (expected " +
                  std::to_string(*count * *element_size) + ")");
    }
    tensor.begin = data_start + begin;
    tensor.end = data_start + end;
    index.tensors.push_back(std::move(tensor));
  }
  std::vector<const SafetensorsTensor*> by_offset;
  for (const SafetensorsTensor& tensor : index.tensors) by_offset.push_back(&tensor);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->begin < by_offset[i - 1]->end) {
      return fail("tensors " + quoted(by_offset[i - 1]->name) + " and " + quoted(by_offset[i]->name) +
                  " overlap in the data section");
    }
  }
  return index;
}

// ---- manifest --------------------------------------------------------------------

LayerManifest parse_layer_manifest(std::string_view text) {
  LayerManifest manifest;
  auto fail = [&](std::string message) {
    manifest.layers.clear();
    manifest.error = std::move(message);
    return manifest;
  };
  const JsonParseResult parsed = parse_json(text);
  if (!parsed.value) return fail("not valid JSON (" + parsed.error + ")");
  const JsonValue* layers = parsed.value->is_object() ? parsed.value->find("layers") : nullptr;
  if (!layers || !layers->is_array()) return fail("expected {\"layers\": [...]}");
  for (size_t i = 0; i < layers->items().size(); ++i) {
    const JsonValue& entry = layers->items()[i];
    const std::string where = "layers[" + std::to_string(i) + "]";
    if (!entry.is_object()) return fail(where + " is not an object");
    ManifestLayer layer;
    const JsonValue* name = entry.find("name");
    const JsonValue* type = entry.find("type");
    if (!name || !name->is_string() || name->as_string().empty()) {
      return fail(where + ": \"name\" must be a non-empty string");
    }
    if (!type || !type->is_string() || type->as_string().empty()) {
      return fail(where + " (" + name->as_string() + "): \"type\" must be a non-empty string");
    }
    layer.name = name->as_string();
    layer.type = type->as_string();
    if (const JsonValue* shape = entry.find("weight_shape"); shape && !shape->is_null()) {
      layer.weight_shape = int_list(*shape);
      if (!layer.weight_shape) {
        return fail(where + " (" + layer.name + "): \"weight_shape\" must be a list of non-negative integers");
      }
    }
    if (const JsonValue* groups = entry.find("groups"); groups && !groups->is_null()) {
      std::optional<uint64_t> g = groups->as_uint64();
      if (!g || *g == 0 || *g > static_cast<uint64_t>(INT64_MAX)) {
        return fail(where + " (" + layer.name + "): \"groups\" must be a positive integer");
      }
      layer.groups = static_cast<int64_t>(*g);
    }
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

// ---- loading ----------------------------------------------------------------------

namespace {

LoadResult load_safetensors(std::shared_ptr<const MappedFile> file, const SafetensorsLimits& limits) {
  LoadResult result;
  const SafetensorsIndex index = read_safetensors_index(file->bytes(), limits);
  if (!index.error.empty()) {
    result.error = file->path() + ": " + index.error;
    return result;
  }
  WeightsModel model;
  model.format = "safetensors";
  model.file = file;
  size_t rank_one = 0, other_tensors = 0;
  for (const SafetensorsTensor& tensor : index.tensors) {
    if (!ends_with(tensor.name, ".weight")) {
      ++other_tensors;
      continue;
    }
    if (tensor.shape.size() < 2) {
      ++rank_one;  // norms, biases of unusual naming: nothing to compress
      continue;
    }
    if (!tensor.dtype) {
      result.error = file->path() + ": tensor '" + tensor.name + "' has dtype " + tensor.dtype_name +
                     "; the engine reads F32, F16 and BF16 weights";
      return result;
    }
    ModelLayer layer;
    layer.name = tensor.name.substr(0, tensor.name.size() - 7);
    layer.weight.name = tensor.name;
    layer.weight.dtype = *tensor.dtype;
    layer.weight.shape = tensor.shape;
    layer.weight.data = file->data() + tensor.begin;
    layer.weight.elements = *element_count(tensor.shape);
    model.layers.push_back(std::move(layer));
  }
  if (rank_one + other_tensors > 0) {
    model.notices.push_back(std::to_string(rank_one) + " rank-1 weights (norm layers) and " +
                            std::to_string(other_tensors) +
                            " other tensors (biases, buffers) are not compressed and were skipped");
  }
  result.model = std::move(model);
  return result;
}

bool looks_like_safetensors(std::string_view bytes) {
  return bytes.size() >= 9 && bytes[8] == '{';
}

std::optional<std::string> read_small_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void apply_manifest(WeightsModel& model, const LayerManifest& manifest) {
  std::map<std::string, const ManifestLayer*> by_name;
  for (const ManifestLayer& layer : manifest.layers) by_name[layer.name] = &layer;
  size_t matched = 0;
  for (ModelLayer& layer : model.layers) {
    auto it = by_name.find(layer.name);
    if (it == by_name.end()) continue;
    ++matched;
    const ManifestLayer& entry = *it->second;
    layer.type = entry.type;
    layer.type_inferred = false;
    layer.groups = entry.groups;
    layer.output_axis_is_1 = entry.type.rfind("ConvTranspose", 0) == 0;
    if (entry.weight_shape && *entry.weight_shape != layer.weight.shape) {
      model.notices.push_back("manifest: layer '" + layer.name + "' has weight_shape " +
                              shape_text(*entry.weight_shape) + " but the weights file has " +
                              shape_text(layer.weight.shape) + "; the file's shape is used");
    }
    by_name.erase(it);
  }
  if (!by_name.empty()) {
    std::string names;
    size_t shown = 0;
    for (const auto& [name, entry] : by_name) {
      if (shown++ == 5) {
        names += ", ...";
        break;
      }
      names += (names.empty() ? "" : ", ") + name;
    }
    model.notices.push_back("manifest: " + std::to_string(by_name.size()) +
                            " layers have no weight in the file (" + names + ")");
  }
  (void)matched;
}

}  // namespace

LoadResult load_weights(const LoadOptions& options) {
  std::string error;
  std::optional<MappedFile> mapped = MappedFile::open(options.weights_path, error);
  if (!mapped) return LoadResult{std::nullopt, error};
  std::optional<ManifestText> manifest;
  if (options.manifest_path) {
    std::optional<std::string> text = read_small_file(*options.manifest_path, error);
    if (!text) return LoadResult{std::nullopt, error};
    manifest = ManifestText{*options.manifest_path, std::move(*text)};
  }
  return load_weights(std::make_shared<const MappedFile>(std::move(*mapped)), options.safetensors, manifest);
}

LoadResult load_weights(std::shared_ptr<const MappedFile> file, const SafetensorsLimits& limits,
                        const std::optional<ManifestText>& manifest_text) {
  LoadResult result;
  const std::string& path = file->path();
  const bool onnx_name = ends_with(path, ".onnx");
  const bool safetensors_name = ends_with(path, ".safetensors");
  if (file->size() == 0) {
    result.error = path + ": empty file";
    return result;
  }
  if (safetensors_name || (!onnx_name && looks_like_safetensors(file->bytes()))) {
    result = load_safetensors(file, limits);
  } else {
    result = read_onnx_model(file);
  }
  if (file->changed_while_mapped()) {  // truncated in place while the header was read
    return LoadResult{std::nullopt, path + ": the file changed while it was read (truncated in place?)"};
  }
  if (!result.model) return result;

  if (manifest_text) {
    const LayerManifest manifest = parse_layer_manifest(manifest_text->text);
    if (!manifest.error.empty()) {
      return LoadResult{std::nullopt, manifest_text->path + ": " + manifest.error};
    }
    apply_manifest(*result.model, manifest);
  }
  std::vector<std::string> inferred;
  for (ModelLayer& layer : result.model->layers) {
    if (!layer.type.empty()) continue;
    layer.type = type_from_rank(layer.weight.shape.size());
    layer.type_inferred = true;
    inferred.push_back(layer.name);
  }
  if (!inferred.empty()) {
    result.model->notices.push_back(
        "layer types of " + std::to_string(inferred.size()) +
        " layers inferred from the weight's rank (4 -> Conv2d, 2 -> Linear, 3 -> Conv1d, 5 -> Conv3d); "
        "give --manifest for exact types (ConvTranspose, depthwise groups, Embedding)");
  }
  // Ranks the engine cannot interpret (6+) stay untyped: keep them out.
  std::erase_if(result.model->layers, [](const ModelLayer& layer) { return layer.type.empty(); });
  return result;
}

// ---- .npy ---------------------------------------------------------------------------

NpyResult read_npy(const std::string& path) {
  std::string error;
  std::optional<MappedFile> mapped = MappedFile::open(path, error);
  if (!mapped) return NpyResult{std::nullopt, error};
  return read_npy(std::make_shared<const MappedFile>(std::move(*mapped)));
}

NpyResult read_npy(std::shared_ptr<const MappedFile> file) {
  NpyResult result;
  const std::string& path = file->path();
  const std::string_view bytes = file->bytes();
  auto fail = [&](const std::string& message) {
    result.error = path + ": " + message;
    return result;
  };
  if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY") return fail("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return fail("truncated header");
    for (int i = 11; i >= 8; --i) header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
    header_start = 12;
  } else {
    return fail("unsupported .npy version " + std::to_string(major));
  }
  if (header_length > bytes.size() - header_start) return fail("truncated header");
  const std::string_view header = bytes.substr(header_start, header_length);
  auto value_after = [&](std::string_view key) -> std::string_view {
    const size_t at = header.find(key);
    if (at == std::string_view::npos) return {};
    size_t p = header.find(':', at + key.size());
    if (p == std::string_view::npos) return {};
    ++p;
    while (p < header.size() && header[p] == ' ') ++p;
    return header.substr(p);
  };
  const std::string_view descr = value_after("'descr'");
  DType dtype;
  if (descr.rfind("'<f4'", 0) == 0) dtype = DType::F32;
  else if (descr.rfind("'<f2'", 0) == 0) dtype = DType::F16;
  else return fail("dtype must be little-endian float32 or float16 ('<f4', '<f2')");
  if (value_after("'fortran_order'").rfind("False", 0) != 0) return fail("fortran_order arrays are not supported");
  std::string_view shape = value_after("'shape'");
  if (shape.empty() || shape[0] != '(') return fail("no shape in the header");
  const size_t close = shape.find(')');
  if (close == std::string_view::npos) return fail("bad shape in the header");
  std::vector<int64_t> dims;
  std::string number;
  for (char c : shape.substr(1, close - 1)) {
    if (c >= '0' && c <= '9') {
      number += c;
      if (number.size() > 18) return fail("dimension too large");
    } else if (c == ',' || c == ' ' || c == 'L') {
      if (!number.empty()) dims.push_back(std::stoll(number));
      number.clear();
    } else {
      return fail("bad shape in the header");
    }
  }
  if (!number.empty()) dims.push_back(std::stoll(number));
  const size_t data_start = header_start + header_length;
  std::optional<uint64_t> count = element_count(dims, UINT64_MAX / 4);
  if (!count) return fail("shape overflows");
  if (*count * dtype_size(dtype) > bytes.size() - data_start) return fail("truncated data");
  NpyArray array;
  array.view.name = path;
  array.view.dtype = dtype;
  array.view.shape = dims;
  array.view.elements = *count;
  array.view.data = file->data() + data_start;
  array.file = file;
  result.array = std::move(array);
  return result;
}

}  // namespace amct::engine
