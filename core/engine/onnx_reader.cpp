// ONNX models read with a hand-written protobuf wire-format reader over the
// memory map. Why not libprotobuf + onnx.proto: libprotobuf parses into owned
// messages (every raw_data would be copied, and messages over 2 GB are
// refused), Debian's libonnx-dev is not installed on build machines, and the
// engine needs five fields of four messages. Field numbers are ONNX's
// (onnx/onnx.proto): ModelProto.graph = 7; GraphProto.node = 1,
// initializer = 5; NodeProto.input = 1, name = 3, op_type = 4, attribute = 5;
// AttributeProto.name = 1, i = 3; TensorProto.dims = 1, data_type = 2,
// float_data = 4, int32_data = 5, name = 8, raw_data = 9, data_location = 14.
#include <cstring>
#include <map>

#include "core/engine/weights_model.h"

namespace amct::engine {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Reads one message's fields; every read is bounds-checked and a malformed
// input sets `error` and stops.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : bytes_(bytes) {}

  bool done() const { return pos_ >= bytes_.size() || !error.empty(); }

  bool varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return fail("truncated varint");
      const unsigned char byte = static_cast<unsigned char>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return fail("varint longer than 10 bytes");
  }

  // The next field's number and wire type; false at the end or on error.
  bool next(uint32_t& field, int& wire_type) {
    if (done()) return false;
    uint64_t key = 0;
    if (!varint(key)) return false;
    field = static_cast<uint32_t>(key >> 3);
    wire_type = static_cast<int>(key & 7);
    if (field == 0) return fail("field number 0");
    return true;
  }

  bool length_delimited(std::string_view& out) {
    uint64_t length = 0;
    if (!varint(length)) return false;
    if (length > bytes_.size() - pos_) return fail("length-delimited field runs past its message");
    out = bytes_.substr(pos_, length);
    pos_ += length;
    return true;
  }

  bool fixed32(uint32_t& value) {
    if (bytes_.size() - pos_ < 4) return fail("truncated fixed32");
    std::memcpy(&value, bytes_.data() + pos_, 4);
    pos_ += 4;
    return true;
  }

  bool skip(int wire_type) {
    uint64_t ignored = 0;
    std::string_view view;
    switch (wire_type) {
      case kVarint: return varint(ignored);
      case kFixed64:
        if (bytes_.size() - pos_ < 8) return fail("truncated fixed64");
        pos_ += 8;
        return true;
      case kLengthDelimited: return length_delimited(view);
      case kFixed32:
        if (bytes_.size() - pos_ < 4) return fail("truncated fixed32");
        pos_ += 4;
        return true;
      default: return fail("unsupported wire type " + std::to_string(wire_type));
    }
  }

  size_t offset_in(std::string_view whole) const {
    return static_cast<size_t>(bytes_.data() - whole.data()) + pos_;
  }

  std::string error;

 private:
  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

struct OnnxTensor {
  std::string name;
  std::vector<int64_t> dims;
  int64_t data_type = 0;
  std::string_view raw_data;
  bool has_raw_data = false;
  std::string_view packed_floats;  // float_data, packed
  std::vector<float> unpacked_floats;
  std::vector<uint64_t> int32_data;  // FLOAT16 / BFLOAT16 bit patterns
  bool external = false;
};

struct OnnxNode {
  std::string name;
  std::string op_type;
  std::vector<std::string> inputs;
  std::map<std::string, int64_t> int_attributes;
};

bool read_packed_varints(std::string_view bytes, std::vector<uint64_t>& out, std::string& error) {
  WireReader packed(bytes);
  while (!packed.done()) {
    uint64_t value = 0;
    if (!packed.varint(value)) break;
    out.push_back(value);
  }
  error = packed.error;
  return error.empty();
}

bool read_tensor(std::string_view bytes, OnnxTensor& tensor, std::string& error) {
  WireReader reader(bytes);
  uint32_t field = 0;
  int wire = 0;
  std::string_view view;
  while (reader.next(field, wire)) {
    uint64_t value = 0;
    if (field == 1 && wire == kVarint) {
      if (!reader.varint(value)) break;
      tensor.dims.push_back(static_cast<int64_t>(value));
    } else if (field == 1 && wire == kLengthDelimited) {
      std::vector<uint64_t> dims;
      if (!reader.length_delimited(view) || !read_packed_varints(view, dims, error)) break;
      for (uint64_t d : dims) tensor.dims.push_back(static_cast<int64_t>(d));
    } else if (field == 2 && wire == kVarint) {
      if (!reader.varint(value)) break;
      tensor.data_type = static_cast<int64_t>(value);
    } else if (field == 4 && wire == kLengthDelimited) {
      if (!reader.length_delimited(view)) break;
      if (view.size() % 4 != 0) {
        error = "packed float_data is not a whole number of floats";
        return false;
      }
      if (!tensor.packed_floats.empty()) {  // several packed runs: gather them
        for (size_t i = 0; i < tensor.packed_floats.size(); i += 4) {
          float f;
          std::memcpy(&f, tensor.packed_floats.data() + i, 4);
          tensor.unpacked_floats.push_back(f);
        }
        tensor.packed_floats = {};
      }
      if (!tensor.unpacked_floats.empty()) {
        for (size_t i = 0; i < view.size(); i += 4) {
          float f;
          std::memcpy(&f, view.data() + i, 4);
          tensor.unpacked_floats.push_back(f);
        }
      } else {
        tensor.packed_floats = view;
      }
    } else if (field == 4 && wire == kFixed32) {
      uint32_t bits = 0;
      if (!reader.fixed32(bits)) break;
      float f;
      std::memcpy(&f, &bits, 4);
      tensor.unpacked_floats.push_back(f);
    } else if (field == 5 && wire == kLengthDelimited) {
      if (!reader.length_delimited(view) || !read_packed_varints(view, tensor.int32_data, error)) break;
    } else if (field == 5 && wire == kVarint) {
      if (!reader.varint(value)) break;
      tensor.int32_data.push_back(value);
    } else if (field == 8 && wire == kLengthDelimited) {
      if (!reader.length_delimited(view)) break;
      tensor.name = std::string(view);
    } else if (field == 9 && wire == kLengthDelimited) {
      if (!reader.length_delimited(tensor.raw_data)) break;
      tensor.has_raw_data = true;
    } else if (field == 14 && wire == kVarint) {
      if (!reader.varint(value)) break;
      tensor.external = value == 1;
    } else if (!reader.skip(wire)) {
      break;
    }
  }
  if (error.empty()) error = reader.error;
  return error.empty();
}

bool read_node(std::string_view bytes, OnnxNode& node, std::string& error) {
  WireReader reader(bytes);
  uint32_t field = 0;
  int wire = 0;
  std::string_view view;
  while (reader.next(field, wire)) {
    if (wire == kLengthDelimited && (field == 1 || field == 3 || field == 4)) {
      if (!reader.length_delimited(view)) break;
      if (field == 1) node.inputs.emplace_back(view);
      if (field == 3) node.name = std::string(view);
      if (field == 4) node.op_type = std::string(view);
    } else if (field == 5 && wire == kLengthDelimited) {
      if (!reader.length_delimited(view)) break;
      WireReader attribute(view);
      std::string name;
      std::optional<int64_t> int_value;
      uint32_t af = 0;
      int aw = 0;
      while (attribute.next(af, aw)) {
        std::string_view text;
        uint64_t value = 0;
        if (af == 1 && aw == kLengthDelimited) {
          if (!attribute.length_delimited(text)) break;
          name = std::string(text);
        } else if (af == 3 && aw == kVarint) {
          if (!attribute.varint(value)) break;
          int_value = static_cast<int64_t>(value);
        } else if (!attribute.skip(aw)) {
          break;
        }
      }
      if (!attribute.error.empty()) {
        error = "attribute: " + attribute.error;
        return false;
      }
      if (int_value) node.int_attributes[name] = *int_value;
    } else if (!reader.skip(wire)) {
      break;
    }
  }
  error = reader.error;
  return error.empty();
}

// "/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1";
// "/model/layers.0/self_attn/q_proj/MatMul" -> "model.layers.0.self_attn.q_proj".
std::string module_name_from_node(std::string_view node_name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= node_name.size()) {
    size_t slash = node_name.find('/', start);
    if (slash == std::string_view::npos) slash = node_name.size();
    if (slash > start) parts.emplace_back(node_name.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.size() < 2) return std::string(node_name);
  parts.pop_back();  // the op
  std::string name;
  for (const std::string& part : parts) {
    if (!name.empty() && part.rfind(name + ".", 0) == 0) {
      name = part;
    } else {
      name += (name.empty() ? "" : ".") + part;
    }
  }
  return name;
}

std::string onnx_layer_type(const std::string& op_type, size_t rank) {
  if (op_type == "Conv") {
    if (rank == 3) return "Conv1d";
    if (rank == 4) return "Conv2d";
    if (rank == 5) return "Conv3d";
  } else if (op_type == "ConvTranspose") {
    if (rank == 3) return "ConvTranspose1d";
    if (rank == 4) return "ConvTranspose2d";
    if (rank == 5) return "ConvTranspose3d";
  } else if ((op_type == "Gemm" || op_type == "MatMul") && rank == 2) {
    return "Linear";
  }
  return "";
}

}  // namespace

LoadResult read_onnx_model(std::shared_ptr<const MappedFile> file) {
  LoadResult result;
  auto fail = [&](const std::string& message) {
    result.error = file->path() + ": " + message;
    return result;
  };
  const std::string_view whole = file->bytes();
  std::string_view graph;
  {
    WireReader model(whole);
    uint32_t field = 0;
    int wire = 0;
    bool found = false;
    while (model.next(field, wire)) {
      if (field == 7 && wire == kLengthDelimited) {
        if (!model.length_delimited(graph)) break;
        found = true;
      } else if (!model.skip(wire)) {
        break;
      }
    }
    if (!model.error.empty()) {
      return fail("not a valid ONNX model (protobuf: " + model.error + " at byte " +
                  std::to_string(model.offset_in(whole)) + ")");
    }
    if (!found) return fail("not an ONNX model (no graph)");
  }

  std::map<std::string, OnnxTensor> initializers;
  std::vector<OnnxNode> nodes;
  WireReader reader(graph);
  uint32_t field = 0;
  int wire = 0;
  std::string_view view;
  std::string error;
  while (reader.next(field, wire)) {
    if (field == 5 && wire == kLengthDelimited) {
      if (!reader.length_delimited(view)) break;
      OnnxTensor tensor;
      if (!read_tensor(view, tensor, error)) return fail("initializer: " + error);
      std::string name = tensor.name;
      initializers[name] = std::move(tensor);
    } else if (field == 1 && wire == kLengthDelimited) {
      if (!reader.length_delimited(view)) break;
      OnnxNode node;
      if (!read_node(view, node, error)) return fail("node: " + error);
      nodes.push_back(std::move(node));
    } else if (!reader.skip(wire)) {
      break;
    }
  }
  if (!reader.error.empty()) return fail("not a valid ONNX graph (protobuf: " + reader.error + ")");

  WeightsModel model;
  model.format = "onnx";
  model.file = file;
  model.owned = std::make_shared<std::deque<std::vector<unsigned char>>>();
  std::map<std::string, bool> used;
  size_t external = 0;
  for (const OnnxNode& node : nodes) {
    if (node.inputs.size() < 2) continue;
    if (node.op_type != "Conv" && node.op_type != "ConvTranspose" && node.op_type != "Gemm" &&
        node.op_type != "MatMul") {
      continue;
    }
    auto it = initializers.find(node.inputs[1]);
    if (it == initializers.end() || used[it->first]) continue;  // activation x activation
    const OnnxTensor& tensor = it->second;
    used[it->first] = true;
    if (tensor.external) {
      ++external;
      continue;
    }
    const std::string type = onnx_layer_type(node.op_type, tensor.dims.size());
    if (type.empty()) continue;
    std::optional<uint64_t> count = element_count(tensor.dims, UINT64_MAX / 8);
    if (!count) return fail("initializer '" + tensor.name + "': shape " + shape_text(tensor.dims) + " overflows");

    ModelLayer layer;
    const std::string& weight_name = tensor.name;
    if (weight_name.size() > 7 && weight_name.ends_with(".weight")) {
      layer.name = weight_name.substr(0, weight_name.size() - 7);
    } else if (!node.name.empty()) {
      layer.name = module_name_from_node(node.name);
    } else {
      layer.name = weight_name;
    }
    layer.type = type;
    if (auto g = node.int_attributes.find("group"); g != node.int_attributes.end() && g->second > 0) {
      layer.groups = g->second;
    }
    if (node.op_type == "ConvTranspose" || node.op_type == "MatMul") {
      layer.output_axis_is_1 = true;
    } else if (node.op_type == "Gemm") {
      auto t = node.int_attributes.find("transB");
      layer.output_axis_is_1 = t == node.int_attributes.end() || t->second == 0;
    }
    TensorView& weight = layer.weight;
    weight.name = weight_name;
    weight.shape = tensor.dims;
    weight.elements = *count;
    const char* where = "initializer '";
    if (tensor.data_type == 1) {  // FLOAT
      weight.dtype = DType::F32;
      if (tensor.has_raw_data) {
        if (tensor.raw_data.size() != *count * 4) {
          return fail(where + weight_name + "': raw_data has " + std::to_string(tensor.raw_data.size()) +
                      " bytes, shape " + shape_text(tensor.dims) + " needs " + std::to_string(*count * 4));
        }
        weight.data = reinterpret_cast<const unsigned char*>(tensor.raw_data.data());
      } else if (!tensor.unpacked_floats.empty()) {
        if (tensor.unpacked_floats.size() != *count) {
          return fail(where + weight_name + "': float_data has " + std::to_string(tensor.unpacked_floats.size()) +
                      " values, shape " + shape_text(tensor.dims) + " needs " + std::to_string(*count));
        }
        auto& buffer = model.owned->emplace_back(*count * 4);
        std::memcpy(buffer.data(), tensor.unpacked_floats.data(), *count * 4);
        weight.data = buffer.data();
      } else {
        if (tensor.packed_floats.size() != *count * 4) {
          return fail(where + weight_name + "': float_data has " + std::to_string(tensor.packed_floats.size() / 4) +
                      " values, shape " + shape_text(tensor.dims) + " needs " + std::to_string(*count));
        }
        weight.data = reinterpret_cast<const unsigned char*>(tensor.packed_floats.data());
      }
    } else if (tensor.data_type == 10 || tensor.data_type == 16) {  // FLOAT16, BFLOAT16
      weight.dtype = tensor.data_type == 10 ? DType::F16 : DType::BF16;
      if (tensor.has_raw_data) {
        if (tensor.raw_data.size() != *count * 2) {
          return fail(where + weight_name + "': raw_data has " + std::to_string(tensor.raw_data.size()) +
                      " bytes, shape " + shape_text(tensor.dims) + " needs " + std::to_string(*count * 2));
        }
        weight.data = reinterpret_cast<const unsigned char*>(tensor.raw_data.data());
      } else {
        if (tensor.int32_data.size() != *count) {
          return fail(where + weight_name + "': int32_data has " + std::to_string(tensor.int32_data.size()) +
                      " values, shape " + shape_text(tensor.dims) + " needs " + std::to_string(*count));
        }
        auto& buffer = model.owned->emplace_back(*count * 2);
        for (uint64_t i = 0; i < *count; ++i) {
          const uint16_t bits = static_cast<uint16_t>(tensor.int32_data[i]);
          std::memcpy(buffer.data() + i * 2, &bits, 2);
        }
        weight.data = buffer.data();
      }
    } else {
      return fail(where + weight_name + "' has ONNX data_type " + std::to_string(tensor.data_type) +
                  "; the engine reads FLOAT, FLOAT16 and BFLOAT16 weights");
    }
    model.layers.push_back(std::move(layer));
  }
  if (external > 0) {
    model.notices.push_back(std::to_string(external) +
                            " weights are stored as ONNX external data and were skipped");
  }
  result.model = std::move(model);
  return result;
}

}  // namespace amct::engine
