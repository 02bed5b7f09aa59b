#include "support/config_generator.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace amct::bench {

namespace {

// ---- deterministic generator (port of gen_cfg.py; same shape, own RNG) ------

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& word : state_) word = splitmix(seed);
  }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform01(); }
  template <typename T>
  const T& choice(const std::vector<T>& items) {
    return items[static_cast<size_t>(uniform01() * static_cast<double>(items.size()))];
  }

 private:
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {  // xoshiro256**
    uint64_t result = rotl(state_[1] * 5, 7) * 9;
    uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  uint64_t state_[4];
};

const std::vector<std::string> kLlmProjections = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
const std::vector<std::string> kDataTypes = {"INT8", "INT8", "INT8", "INT4", "INT16"};
const std::vector<std::string> kComments = {
    "sensitive layer, keep 8 bit",
    "TODO: re-check accuracy after pruning",
    "from sensitivity sweep 2024-05",
    "clip range from calibration (percentile 99.99)",
    "ascend 16-channel alignment",
    "down_proj has large outliers",
    "4:2 sparsity for the tensor cores",
    "do not prune: residual branch",
    "copied from resnet50 recipe",
    "override: first conv"};

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

class LayerNames {
 public:
  explicit LayerNames(Random& random) : random_(random) {}
  std::string next() {
    if (queue_.empty()) refill();
    std::string name = queue_.front();
    queue_.pop_front();
    return name;
  }

 private:
  void refill() {
    if (random_.uniform01() < 0.55) {  // one decoder layer of an LLM
      int i = llm_layer_++;
      std::string prefix = i < 4000 ? "model.layers" : "model.decoder.layers";
      for (const std::string& projection : kLlmProjections) {
        queue_.push_back(prefix + "." + std::to_string(i) + "." + projection);
      }
    } else {  // one ResNet bottleneck block
      int block = res_block_++;
      std::string stage = "layer" + std::to_string(1 + block % 4) + "." + std::to_string(block / 4);
      for (int k = 1; k <= 3; ++k) queue_.push_back(stage + ".conv" + std::to_string(k));
      if (block / 4 == 0 || random_.uniform01() < 0.1) queue_.push_back(stage + ".downsample.0");
    }
  }
  Random& random_;
  int llm_layer_ = 0;
  int res_block_ = 0;
  std::deque<std::string> queue_;
};

class ConfigWriter {
 public:
  explicit ConfigWriter(Random& random) : random_(random) {}
  std::string text;

  void raw(const std::string& line) { text += line + "\n"; }
  void line(int depth, const std::string& unit, const std::string& content, double comment_p = 0.02) {
    for (int i = 0; i < depth; ++i) text += unit;
    text += content;
    if (random_.uniform01() < comment_p) text += "  # " + random_.choice(kComments);
    text += "\n";
  }
  void comment(int depth, const std::string& unit) {
    for (int i = 0; i < depth; ++i) text += unit;
    text += "# " + random_.choice(kComments) + "\n";
  }
  void open(int depth, const std::string& unit, const std::string& name) {
    double x = random_.uniform01();
    line(depth, unit, name + (x < 0.5 ? ": {" : x < 0.9 ? " {" : "{"), 0.01);
  }
  void close(int depth, const std::string& unit) {
    for (int i = 0; i < depth; ++i) text += unit;
    text += "}\n";
  }
  void scalar(int depth, const std::string& unit, const std::string& name, const std::string& value) {
    double x = random_.uniform01();
    line(depth, unit, name + (x < 0.8 ? ": " : x < 0.9 ? " : " : ":") + value);
  }
  std::string fmt_float(double value) {
    double x = random_.uniform01();
    if (x < 0.85) return format("%.4g", value);
    if (x < 0.95) {  // Python repr(round(v, 6))
      double rounded = std::round(value * 1e6) / 1e6;
      char buffer[64];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, rounded);
      std::string shortest(buffer, end);
      if (shortest.find_first_of(".en") == std::string::npos) shortest += ".0";
      return shortest;
    }
    return format("%.3e", value);
  }
  std::string fmt_bool(bool value) {
    if (random_.uniform01() < 0.03) return value ? "True" : "False";
    return value ? "true" : "false";
  }
  std::string fmt_str(const std::string& s) {
    return random_.uniform01() < 0.05 ? "'" + s + "'" : "\"" + s + "\"";
  }

  void data_quant(int d, const std::string& u) {
    open(d, u, "retrain_data_quant_config");
    open(d + 1, u, "ulq_quantize");
    if (random_.uniform01() < 0.8) {
      double clip_max = random_.choice(std::vector<double>{1.0, 2.0, 4.0, 6.0, 8.0}) *
                        random_.uniform(0.5, 1.5);
      double clip_min = random_.uniform01() < 0.7 ? -clip_max * random_.uniform(0.0, 1.0) : 0.0;
      if (random_.uniform01() < 0.15) comment(d + 2, u);
      open(d + 2, u, "clip_max_min");
      scalar(d + 3, u, "clip_max", fmt_float(clip_max));
      scalar(d + 3, u, "clip_min", fmt_float(clip_min));
      close(d + 2, u);
    }
    if (random_.uniform01() < 0.3) scalar(d + 2, u, "fixed_min", fmt_bool(random_.uniform01() < 0.5));
    if (random_.uniform01() < 0.7) scalar(d + 2, u, "dst_type", random_.choice(kDataTypes));
    close(d + 1, u);
    close(d, u);
  }
  void weight_quant(int d, const std::string& u) {
    open(d, u, "retrain_weight_quant_config");
    open(d + 1, u, random_.uniform01() < 0.6 ? "arq_retrain" : "ulq_retrain");
    if (random_.uniform01() < 0.8) scalar(d + 2, u, "dst_type", random_.choice(kDataTypes));
    if (random_.uniform01() < 0.9) {
      scalar(d + 2, u, "channel_wise", fmt_bool(random_.uniform01() < 0.7));
    }
    close(d + 1, u);
    close(d, u);
  }
  void prune(int d, const std::string& u) {
    open(d, u, "prune_config");
    if (random_.uniform01() < 0.55) {
      open(d + 1, u, "filter_pruner");
      open(d + 2, u, "balanced_l2_norm_filter_prune");
      scalar(d + 3, u, "prune_ratio",
             fmt_float(random_.choice(std::vector<double>{0.1, 0.2, 0.25, 0.3, 0.5})));
      if (random_.uniform01() < 0.5) {
        scalar(d + 3, u, "ascend_optimized", fmt_bool(random_.uniform01() < 0.8));
      }
      close(d + 2, u);
      close(d + 1, u);
    } else {
      open(d + 1, u, "n_out_of_m_pruner");
      open(d + 2, u, "l1_selective_prune");
      if (random_.uniform01() < 0.7) scalar(d + 3, u, "n_out_of_m_type", "M4N2");
      if (random_.uniform01() < 0.5) {
        scalar(d + 3, u, "update_freq",
               std::to_string(random_.choice(std::vector<int>{0, 1, 10, 100})));
      }
      close(d + 2, u);
      close(d + 1, u);
    }
    close(d, u);
  }

 private:
  Random& random_;
};

}  // namespace

std::string generate_config(int layers, uint64_t seed) {
  Random random(seed);
  ConfigWriter w(random);
  LayerNames names(random);
  const std::string u = "    ";
  w.raw("# AMCT retrain config (synthetic, parse_bench --layers " + std::to_string(layers) +
        " --seed " + std::to_string(seed) + ")");
  w.raw("# message: AMCTRetrainConfig, text format");
  w.raw("");
  w.scalar(0, u, "batch_num", std::to_string(random.choice(std::vector<int>{1, 2, 4, 8})));
  w.raw("");
  w.comment(0, u);
  w.data_quant(0, u);
  w.weight_quant(0, u);
  w.prune(0, u);
  w.raw("");
  int skips = std::max(2, layers / 200);
  w.raw("# layers excluded from everything");
  w.scalar(0, u, "skip_layers", w.fmt_str("lm_head"));
  w.scalar(0, u, "skip_layers", w.fmt_str("conv1"));
  for (int i = 0; i < skips; ++i) {
    w.scalar(0, u, "skip_layers", w.fmt_str("model.layers." + std::to_string(i) + ".self_attn.rotary_emb"));
  }
  for (const char* type : {"Embedding", "LayerNorm"}) w.scalar(0, u, "skip_layer_types", w.fmt_str(type));
  for (int i = 0; i < skips; ++i) {
    w.scalar(0, u, "regular_prune_skip_layers",
             w.fmt_str("layer" + std::to_string(1 + i % 4) + "." + std::to_string(i / 4) + ".conv3"));
  }
  w.scalar(0, u, "regular_prune_skip_types", w.fmt_str("ConvTranspose2d"));
  for (int i = 0; i < skips; ++i) {
    w.scalar(0, u, "quant_skip_layers",
             w.fmt_str("model.layers." + std::to_string(i * 3) + ".mlp.down_proj"));
  }
  w.scalar(0, u, "quant_skip_types", w.fmt_str("Conv1d"));
  w.raw("");
  for (const char* type : {"Linear", "Conv2d"}) {
    w.open(0, u, "override_layer_types");
    w.scalar(1, u, "layer_type", w.fmt_str(type));
    w.weight_quant(1, u);
    if (std::string(type) == "Conv2d") w.prune(1, u);
    w.close(0, u);
  }
  w.scalar(0, u, "fakequant_precision_mode", "FORCE_FP16_QUANT");
  w.raw("");
  const std::vector<std::string> other_units = {"  ", "\t", "   "};
  for (int i = 0; i < layers; ++i) {
    std::string unit = random.uniform01() < 0.85 ? u : random.choice(other_units);
    if (random.uniform01() < 0.05) w.comment(0, unit);
    w.open(0, unit, "override_layer_configs");
    w.scalar(1, unit, "layer_name", w.fmt_str(names.next()));
    bool has_data = random.uniform01() < 0.6;
    bool has_weight = random.uniform01() < 0.75;
    bool has_prune = random.uniform01() < 0.35;
    if (!has_data && !has_weight && !has_prune) has_weight = true;
    if (has_data) w.data_quant(1, unit);
    if (has_weight) w.weight_quant(1, unit);
    if (has_prune) w.prune(1, unit);
    w.close(0, unit);
    if (random.uniform01() < 0.1) w.raw("");
  }
  return w.text;
}


}  // namespace amct::bench
