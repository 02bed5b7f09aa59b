// engine_bench: GB/s of the reference engine (core/engine) per algorithm on
// synthetic ResNet-50-shaped (25.5M params) and Llama-7B-decoder-layer-shaped
// (202M params) F32 weights, through the real estimate path
// (config -> resolver -> kernels), next to the machine's memory read
// bandwidth measured in the same run with the same vector code, and the
// NumPy reference figures of ../shared/perf/README.md.
//
//   engine_bench [--repeat N] [--model resnet50|llama7b_layer|all] [--algo NAME] [--threads T] [--quick] [--per-layer]
//                [--cpu-kernels] [--reestimate] [--from-file] [--dtype f32|bf16|f16]
//
// GB/s = bytes of weights processed / wall time (median of N runs after a
// warm-up of at least one run and 0.3 s). Goal (issue 5): ARQ and 4:2 at >= 50 % of the 2-thread read
// bandwidth. Per-channel ARQ reads each row once (the second pass finds it in
// cache); per-tensor ARQ reads each chunk once and quantizes it with the
// running max, then reads again the chunks whose scale was not the final one
// (and the first quarter, only scanned at first): "read twice ... from
// memory" and "quantized twice" are those shares of the weights; tensors that
// fit in cache (but F32 ones on the vector kernels, quantized in the sweep
// that scans them) are scanned whole first, and their second read ("from
// cache") costs no memory traffic.
// --per-layer: compress_weight alone per layer, caches flushed before each
// run, per-channel next to per-tensor ARQ (where per-tensor loses time), and
// per-tensor with the scan of an earlier run known (one read; what a caller
// estimating the same weights again could get).
// --cpu-kernels: CPU time per element from L2, comparable under load.
// --from-file: the weights written to safetensors files (of --dtype), each run
// loading and mapping them afresh as `amct-lsp --estimate` does (the time
// includes the load).
// AMCT_VECTOR_KERNELS=avx2|portable: ARQ on narrower vector kernels than the
// CPU's widest (compress.h), to compare them.
// --dtype bf16|f16: the weights rounded to that type (what most checkpoints
// ship), widened to float on the fly by the engine; GB/s counts their bytes,
// half of F32's, and there are no NumPy figures for them.
// --reestimate: the language server's path after an edit of dst_type (per
// tensor, INT8 -> INT4): every layer estimated again, with the weights' scans
// kept from the INT8 estimate (ide::TensorScanCache) and without; alternate
// runs, caches flushed before each.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/amct/config.h"
#include "core/engine/estimate.h"
#include "core/ide/estimate_hints.h"
#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"
#include "support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kWarmupSeconds = 0.3;
using amct::engine::WeightsModel;

struct Shape {
  std::string name;
  std::vector<int64_t> dims;
};

std::vector<Shape> resnet50_shapes() {
  std::vector<Shape> shapes = {{"conv1", {64, 3, 7, 7}}};
  int64_t inplanes = 64;
  const int64_t widths[4] = {64, 128, 256, 512}, blocks[4] = {3, 4, 6, 3};
  for (int li = 0; li < 4; ++li) {
    const int64_t width = widths[li], out = width * 4;
    for (int64_t b = 0; b < blocks[li]; ++b) {
      const std::string prefix = "layer" + std::to_string(li + 1) + "." + std::to_string(b) + ".";
      const int64_t cin = b == 0 ? inplanes : out;
      shapes.push_back({prefix + "conv1", {width, cin, 1, 1}});
      shapes.push_back({prefix + "conv2", {width, width, 3, 3}});
      shapes.push_back({prefix + "conv3", {out, width, 1, 1}});
      if (b == 0) shapes.push_back({prefix + "downsample.0", {out, inplanes, 1, 1}});
    }
    inplanes = out;
  }
  shapes.push_back({"fc", {1000, 2048}});
  return shapes;
}

std::vector<Shape> llama7b_layer_shapes() {
  const int64_t h = 4096, f = 11008;
  return {{"self_attn.q_proj", {h, h}}, {"self_attn.k_proj", {h, h}}, {"self_attn.v_proj", {h, h}},
          {"self_attn.o_proj", {h, h}}, {"mlp.gate_proj", {f, h}},    {"mlp.up_proj", {f, h}},
          {"mlp.down_proj", {h, f}}};
}

// Kaiming-scaled Gaussian, lognormal(0, 0.3) per output channel, 0.01 %
// outliers at 8x (as quant_ref.py make_weight, with a different random stream).
void fill_weight(std::vector<float>& w, const std::vector<int64_t>& dims, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t rows = static_cast<uint64_t>(dims[0]), per_row = w.size() / rows;
  const float kaiming = std::sqrt(2.0f / static_cast<float>(per_row));
  std::normal_distribution<float> channel(0.0f, 0.3f);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto uniform = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<float>(state >> 40) * (1.0f / 16777216.0f);
  };
  for (uint64_t r = 0; r < rows; ++r) {
    const float scale = kaiming * std::exp(channel(rng));
    float* row = w.data() + r * per_row;
    for (uint64_t i = 0; i < per_row; i += 2) {  // Box-Muller: two Gaussians per pair
      const float u1 = 1.0f - uniform(), u2 = uniform();
      const float radius = std::sqrt(-2.0f * std::log(u1)), angle = 6.2831853f * u2;
      row[i] = radius * std::cos(angle) * scale;
      if (i + 1 < per_row) row[i + 1] = radius * std::sin(angle) * scale;
    }
  }
  const uint64_t outliers = std::max<uint64_t>(1, w.size() / 10000);
  for (uint64_t k = 0; k < outliers; ++k) w[rng() % w.size()] *= 8.0f;
}

struct Model {
  std::vector<std::vector<float>> storage;
  std::vector<std::vector<uint16_t>> halves;  // --dtype bf16 / f16: the weights, rounded
  WeightsModel weights;
  double bytes() const {
    double total = 0;
    for (const amct::engine::ModelLayer& layer : weights.layers) total += static_cast<double>(layer.weight.byte_size());
    return total;
  }
};

Model make_model(const std::vector<Shape>& shapes, uint32_t seed, amct::engine::DType dtype = amct::engine::DType::F32) {
  Model model;
  model.storage.resize(shapes.size());
  std::vector<std::thread> pool;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = t; i < shapes.size(); i += threads) {
        uint64_t count = 1;
        for (int64_t d : shapes[i].dims) count *= static_cast<uint64_t>(d);
        model.storage[i].resize(count);
        fill_weight(model.storage[i], shapes[i].dims, seed + static_cast<uint32_t>(i));
      }
    });
  }
  for (auto& thread : pool) thread.join();
  if (dtype != amct::engine::DType::F32) {
    model.halves.resize(shapes.size());
    for (size_t i = 0; i < shapes.size(); ++i) {
      const std::vector<float>& from = model.storage[i];
      std::vector<uint16_t>& to = model.halves[i];
      to.resize(from.size());
      for (size_t k = 0; k < from.size(); ++k) {
        to[k] = dtype == amct::engine::DType::BF16 ? amct::engine::float_to_bfloat16(from[k])
                                                    : amct::engine::float_to_half(from[k]);
      }
      std::vector<float>().swap(model.storage[i]);
    }
  }
  model.weights.format = "synthetic";
  for (size_t i = 0; i < shapes.size(); ++i) {
    amct::engine::ModelLayer layer;
    layer.name = shapes[i].name;
    layer.type = amct::engine::type_from_rank(shapes[i].dims.size());
    layer.weight.name = shapes[i].name + ".weight";
    layer.weight.shape = shapes[i].dims;
    layer.weight.dtype = dtype;
    if (dtype == amct::engine::DType::F32) {
      layer.weight.data = reinterpret_cast<const unsigned char*>(model.storage[i].data());
      layer.weight.elements = model.storage[i].size();
    } else {
      layer.weight.data = reinterpret_cast<const unsigned char*>(model.halves[i].data());
      layer.weight.elements = model.halves[i].size();
    }
    model.weights.layers.push_back(std::move(layer));
  }
  return model;
}

// The model as a safetensors file at `path` (layer X as "X.weight").
bool write_safetensors(const Model& model, const std::string& path) {
  std::string header = "{";
  uint64_t offset = 0;
  for (const amct::engine::ModelLayer& layer : model.weights.layers) {
    const uint64_t bytes = layer.weight.byte_size();
    if (offset > 0) header += ',';
    header.append("\"").append(layer.weight.name).append("\":{\"dtype\":\"");
    header.append(amct::engine::dtype_name(layer.weight.dtype)).append("\",\"shape\":[");
    for (size_t d = 0; d < layer.weight.shape.size(); ++d) {
      if (d > 0) header += ',';
      header.append(std::to_string(layer.weight.shape[d]));
    }
    header.append("],\"data_offsets\":[").append(std::to_string(offset)).append(",");
    header.append(std::to_string(offset + bytes)).append("]}");
    offset += bytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (!out) return false;
  const uint64_t length = header.size();
  bool ok = std::fwrite(&length, 8, 1, out) == 1 && std::fwrite(header.data(), 1, header.size(), out) == header.size();
  for (const amct::engine::ModelLayer& layer : model.weights.layers) {
    ok = ok && std::fwrite(layer.weight.data, 1, layer.weight.byte_size(), out) == layer.weight.byte_size();
  }
  // On disk before the runs: writing back while they run would take memory bandwidth.
  ok = ok && std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0;
  return std::fclose(out) == 0 && ok;
}

typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_unaligned __attribute__((vector_size(32), aligned(4)));

__attribute__((target_clones("avx2", "default"))) float sum_floats(const float* x, uint64_t n) {
  v8f a = {}, b = {}, c = {}, d = {};
  uint64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a += *reinterpret_cast<const v8f_unaligned*>(x + i);
    b += *reinterpret_cast<const v8f_unaligned*>(x + i + 8);
    c += *reinterpret_cast<const v8f_unaligned*>(x + i + 16);
    d += *reinterpret_cast<const v8f_unaligned*>(x + i + 24);
  }
  const v8f s = (a + b) + (c + d);
  float total = 0;
  for (int k = 0; k < 8; ++k) total += s[k];
  for (; i < n; ++i) total += x[i];
  return total;
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// GB/s of summing a 1 GiB float array on `threads` threads.
double read_bandwidth(const std::vector<float>& data, unsigned threads, int repeat) {
  std::vector<double> times;
  volatile float sink = 0;
  for (int r = 0; r < repeat + 1; ++r) {
    const auto start = Clock::now();
    std::vector<float> partial(threads);
    std::vector<std::thread> pool;
    const uint64_t per = data.size() / threads;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const uint64_t begin = t * per, end = t + 1 == threads ? data.size() : begin + per;
        partial[t] = sum_floats(data.data() + begin, end - begin);
      });
    }
    for (auto& thread : pool) thread.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (float p : partial) sink = sink + p;
    if (r > 0) times.push_back(seconds);
  }
  return static_cast<double>(data.size()) * 4 / median(times) / 1e9;
}

std::optional<amct::engine::DType> parse_bench_dtype(const std::string& name) {
  if (name == "f32") return amct::engine::DType::F32;
  if (name == "bf16") return amct::engine::DType::BF16;
  if (name == "f16") return amct::engine::DType::F16;
  return std::nullopt;
}

amct::AmctConfig config_of(const std::string& text) {
  const amct::syntax::Document document(text);
  const amct::model::BoundDocument bound = amct::model::bind(document, amct::schema::amct_schema().root);
  return amct::extract_config(bound.root);
}

struct Algorithm {
  std::string name;
  std::string config;
};

// NumPy figures of ../shared/perf/README.md (same machine type, 2026-11-25):
// GB/s with 1 thread and with --workers 2.
const std::map<std::string, std::pair<double, double>> kNumpy = {
    {"resnet50/arq_int8_channel", {1.05, 1.71}},       {"resnet50/arq_int8_tensor", {1.20, 1.96}},
    {"resnet50/filter_prune_0.3_ascend", {5.08, 6.55}}, {"resnet50/l1_selective_4_2", {0.38, 0.69}},
    {"llama7b_layer/arq_int8_channel", {0.57, 1.07}},   {"llama7b_layer/arq_int8_tensor", {0.57, 1.09}},
    {"llama7b_layer/filter_prune_0.3_ascend", {2.93, 5.30}}, {"llama7b_layer/l1_selective_4_2", {0.25, 0.44}},
};

// --per-layer: compress_weight alone on each layer, from memory (the caches
// are flushed before every run), channel-wise and per-tensor ARQ side by side.
void per_layer_report(const Model& model, unsigned threads, int repeat) {
  std::vector<float> flush(size_t{8} << 20, 1.0f);  // 32 MB: 4x the last-level cache
  auto evict = [&] {
    for (size_t i = 0; i < flush.size(); i += 16) flush[i] += 1.0f;
  };
  // "known": per-tensor again with the scan of an earlier run passed back
  // (CompressSpec::known_scan, as a caller estimating the same weights again
  // can): one read.
  std::printf("%-28s %9s %10s %10s %10s %10s %8s\n", "layer", "elements", "channel", "tensor", "known", "t/c",
              "reread");
  double totals[3] = {0, 0, 0};
  for (const amct::engine::ModelLayer& layer : model.weights.layers) {
    double seconds[3] = {0, 0, 0};
    uint64_t reread = 0;
    std::optional<amct::engine::TensorScan> scan;
    for (int kind = 0; kind < 3; ++kind) {
      amct::engine::CompressSpec spec;
      spec.threads = threads;
      spec.quant = amct::engine::QuantSpec{8, kind == 0};
      if (kind == 2) spec.known_scan = scan ? &*scan : nullptr;
      std::vector<double> times;
      for (int r = 0; r < repeat; ++r) {
        evict();
        const auto start = Clock::now();
        amct::engine::CompressResult result = amct::engine::compress_weight(layer.weight, spec);
        times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
        if (kind == 1) {
          reread = result.reread_elements;
          scan = std::move(result.scan);
        }
      }
      seconds[kind] = median(times);
      totals[kind] += seconds[kind];
    }
    const double bytes = static_cast<double>(layer.weight.elements) * 4;
    std::printf("%-28s %9llu %7.2f GB/s %7.2f GB/s %7.2f GB/s %9.2f %7.0f%%\n", layer.name.c_str(),
                static_cast<unsigned long long>(layer.weight.elements), bytes / seconds[0] / 1e9,
                bytes / seconds[1] / 1e9, bytes / seconds[2] / 1e9, seconds[1] / seconds[0],
                100.0 * static_cast<double>(reread) / static_cast<double>(layer.weight.elements));
  }
  const double bytes = static_cast<double>(model.weights.parameter_count()) * 4;
  std::printf("%-28s %9s %7.2f GB/s %7.2f GB/s %7.2f GB/s %9.2f  (sum of per-layer medians, %u threads)\n", "total",
              "", bytes / totals[0] / 1e9, bytes / totals[1] / 1e9, bytes / totals[2] / 1e9, totals[1] / totals[0],
              threads);
}

// --reestimate: see the header comment.
void reestimate_report(const Model& model, unsigned threads, int repeat) {
  const amct::AmctConfig int8 =
      config_of("retrain_weight_quant_config { arq_retrain { channel_wise: false dst_type: INT8 } }");
  const amct::AmctConfig int4 =
      config_of("retrain_weight_quant_config { arq_retrain { channel_wise: false dst_type: INT4 } }");
  amct::ide::TensorScanCache scans;
  for (const amct::ide::PendingEstimate& p : amct::ide::layers_to_estimate(int8, model.weights, {}, {}, &scans))
    amct::ide::keep_scan(scans, p, amct::ide::estimate_pending(model.weights, p, threads));
  std::vector<float> flush(size_t{8} << 20, 1.0f);  // 32 MB: 4x the last-level cache
  auto evict = [&] {
    for (size_t i = 0; i < flush.size(); i += 16) flush[i] += 1.0f;
  };
  std::vector<double> times[2], cpu[2];
  double sumsq_err[2] = {0, 0};
  size_t reused[2] = {0, 0};
  for (int r = 0; r < repeat + 1; ++r) {
    for (int k = 0; k < 2; ++k) {
      const int with_scans = (r + k) % 2;  // alternate which goes first
      evict();
      const auto start = Clock::now();
      const double cpu_start = process_cpu_seconds();
      double err = 0;
      size_t used = 0;
      for (const amct::ide::PendingEstimate& p :
           amct::ide::layers_to_estimate(int4, model.weights, {}, {}, with_scans ? &scans : nullptr)) {
        const amct::engine::LayerEstimate e = amct::ide::estimate_pending(model.weights, p, threads);
        if (e.error) err += e.error->sumsq_err;
        used += e.used_known_scan;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (r == 0) continue;  // warm-up
      times[with_scans].push_back(seconds);
      cpu[with_scans].push_back((process_cpu_seconds() - cpu_start) / (seconds * threads));
      sumsq_err[with_scans] = err;
      reused[with_scans] = used;
    }
  }
  double load[3] = {0, 0, 0};
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = NAN;
    std::fclose(f);
  }
  const double bytes = static_cast<double>(model.weights.parameter_count()) * 4;
  for (int with_scans : {0, 1}) {
    std::printf("%-22s median %.4f s (min %.4f)  %6.2f GB/s  CPU %3.0f %%  scans reused %zu/%zu\n",
                with_scans ? "with kept scans" : "without (cold scan)", median(times[with_scans]),
                *std::min_element(times[with_scans].begin(), times[with_scans].end()),
                bytes / median(times[with_scans]) / 1e9, 100 * median(cpu[with_scans]), reused[with_scans],
                model.weights.layers.size());
  }
  std::printf("speed-up %.2fx, figures %s; %u thread(s) per layer, %d runs each, load average %.2f %.2f %.2f\n",
              median(times[0]) / median(times[1]), sumsq_err[0] == sumsq_err[1] ? "identical" : "DIFFER", threads,
              repeat, load[0], load[1], load[2]);
}

// --cpu-kernels: thread CPU time per element of compress_weight (1 thread) on
// a 64 x 512 F32 tensor that stays in L2, called again and again. The CPU
// time of the calling thread does not count the time other processes hold
// the core, so figures taken on a busy machine compare (about 2 % apart
// run to run, against 10-20 % for the wall-clock GB/s above).
double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

void cpu_kernels_report(int repeat) {
  const std::vector<int64_t> dims = {64, 512};
  std::vector<float> w(64 * 512);
  fill_weight(w, dims, 99);
  amct::engine::TensorView tensor;
  tensor.shape = dims;
  tensor.data = reinterpret_cast<const unsigned char*>(w.data());
  tensor.elements = w.size();
  struct Kernel {
    const char* name;
    amct::engine::CompressSpec spec;
  };
  std::vector<Kernel> kernels(4);
  kernels[0] = {"arq_int8_channel", {}};
  kernels[0].spec.quant = amct::engine::QuantSpec{8, true};
  kernels[1] = {"arq_int8_tensor", {}};
  kernels[1].spec.quant = amct::engine::QuantSpec{8, false};
  kernels[2] = {"l1_selective_4_2", {}};
  kernels[2].spec.prune.kind = amct::engine::PruneKind::Selective4of2;
  kernels[3] = {"4_2_then_arq_int8_channel", kernels[2].spec};
  kernels[3].spec.quant = amct::engine::QuantSpec{8, true};
  std::printf("%-28s %14s %18s\n", "algorithm (64 x 512, in L2)", "CPU ns/element", "GB/s per busy core");
  double sink = 0;
  for (const Kernel& kernel : kernels) {
    std::vector<double> times;
    const int calls = 2000;
    for (int r = 0; r < std::max(repeat, 3); ++r) {
      const double start = thread_cpu_seconds();
      for (int c = 0; c < calls; ++c) sink += amct::engine::compress_weight(tensor, kernel.spec).error->sumsq_err;
      times.push_back((thread_cpu_seconds() - start) / calls / static_cast<double>(w.size()));
    }
    const double per_element = median(times);
    std::printf("%-28s %14.3f %18.2f\n", kernel.name, per_element * 1e9, 4 / per_element / 1e9);
  }
  if (sink < 0) std::printf("%g\n", sink);  // keeps the calls
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 5;
  std::string which = "all", only_algorithm;
  unsigned only_threads = 0;
  bool per_layer = false, cpu_kernels = false, reestimate = false, from_file = false;
  amct::engine::DType dtype = amct::engine::DType::F32;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--model" && i + 1 < argc) which = argv[++i];
    else if (arg == "--algo" && i + 1 < argc) only_algorithm = argv[++i];
    else if (arg == "--threads" && i + 1 < argc) only_threads = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (arg == "--quick") repeat = 1;
    else if (arg == "--per-layer") per_layer = true;
    else if (arg == "--cpu-kernels") cpu_kernels = true;
    else if (arg == "--reestimate") reestimate = true;
    else if (arg == "--from-file") from_file = true;
    else if (arg == "--dtype" && i + 1 < argc && parse_bench_dtype(argv[i + 1])) dtype = *parse_bench_dtype(argv[++i]);
    else {
      std::fprintf(stderr, "usage: engine_bench [--repeat N] [--model resnet50|llama7b_layer|all] [--algo NAME] "
                           "[--threads T] [--quick] [--per-layer] [--cpu-kernels] [--reestimate] [--from-file] "
                           "[--dtype f32|bf16|f16]\n");
      return 2;
    }
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (cpu_kernels) {
    cpu_kernels_report(repeat);
    return 0;
  }
  if (reestimate) {
    for (const std::string& name : {std::string("resnet50"), std::string("llama7b_layer")}) {
      if (which != "all" && which != name) continue;
      const Model model = make_model(name == "resnet50" ? resnet50_shapes() : llama7b_layer_shapes(), 1234);
      std::printf("%s: every layer estimated again after dst_type INT8 -> INT4 (per tensor)\n", name.c_str());
      reestimate_report(model, only_threads ? only_threads : 1, repeat);
    }
    return 0;
  }
  if (per_layer) {
    for (const std::string& name : {std::string("resnet50"), std::string("llama7b_layer")}) {
      if (which != "all" && which != name) continue;
      const Model model = make_model(name == "resnet50" ? resnet50_shapes() : llama7b_layer_shapes(), 1234);
      std::printf("%s: ARQ INT8 per layer, from memory\n", name.c_str());
      per_layer_report(model, only_threads ? only_threads : 1, repeat);
    }
    return 0;
  }
  std::printf("engine_bench: %u cores, %d runs per figure (median after a warm-up of >= 1 run and %.1f s)\n", cores, repeat, kWarmupSeconds);

  // The machine's read bandwidth drifts by up to ±20 % over minutes (a
  // shared VM): each figure is compared with measures taken just before its
  // runs (then the warm-up, as a run right after a 1 GiB sum is up to 30 %
  // slower) and just after them; the first is printed here.
  const std::vector<float> big(size_t{1} << 28, 1.0f);  // 1 GiB
  const int bandwidth_repeat = std::max(repeat, 5);  // 3 let one dip give 102 %
  std::printf("memory read bandwidth (sum of a 1 GiB float array): 1 thread %.1f GB/s, 2 threads %.1f GB/s\n\n",
              read_bandwidth(big, 1, bandwidth_repeat), read_bandwidth(big, 2, bandwidth_repeat));
  // --from-file: the weights go through what `amct-lsp --estimate` does, a
  // safetensors file loaded and mapped afresh for each run (timed with it).
  std::optional<amct::test::TempDir> file_dir;
  if (from_file) {
    file_dir.emplace();
    std::printf("weights: safetensors files in %s, loaded and mapped for each run (the time includes it)\n",
                file_dir->path("").c_str());
  }
  std::printf("weights: %s%s\n", amct::engine::dtype_name(dtype),
              dtype == amct::engine::DType::F32 ? "" : " (GB/s of its bytes, 2 per weight)");
  std::printf("ARQ kernels: %s (this CPU's widest: %s; AMCT_VECTOR_KERNELS=avx2|portable for narrower ones)\n\n",
              amct::engine::vector_kernels_name(
                  std::min(amct::engine::default_vector_kernels_cap(), amct::engine::widest_vector_kernels())),
              amct::engine::vector_kernels_name(amct::engine::widest_vector_kernels()));

  const std::vector<Algorithm> algorithms = {
      {"arq_int8_channel", "retrain_weight_quant_config { arq_retrain { channel_wise: true dst_type: INT8 } }"},
      {"arq_int8_tensor", "retrain_weight_quant_config { arq_retrain { channel_wise: false dst_type: INT8 } }"},
      {"filter_prune_0.3_ascend",
       "prune_config { filter_pruner { balanced_l2_norm_filter_prune { prune_ratio: 0.3 ascend_optimized: true } } }"},
      {"l1_selective_4_2", "prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 } } }"},
      {"4_2_then_arq_int8_channel",
       "retrain_weight_quant_config { arq_retrain { channel_wise: true dst_type: INT8 } }\n"
       "prune_config { n_out_of_m_pruner { l1_selective_prune { n_out_of_m_type: M4N2 } } }"},
  };
  std::printf("%-14s %-26s %7s %9s %8s %9s %9s %7s %10s  %s\n", "model", "algorithm", "threads", "median s", "GB/s",
              "read GB/s", "% of read", "CPU", "NumPy*", "figures");
  for (const std::string& name : {std::string("resnet50"), std::string("llama7b_layer")}) {
    if (which != "all" && which != name) continue;
    const Model model = make_model(name == "resnet50" ? resnet50_shapes() : llama7b_layer_shapes(), 1234, dtype);
    const double bytes = model.bytes();
    const std::string path = file_dir ? file_dir->path(name + ".safetensors") : "";
    if (file_dir && !write_safetensors(model, path)) {
      std::fprintf(stderr, "engine_bench: cannot write %s\n", path.c_str());
      return 1;
    }
    for (const Algorithm& algorithm : algorithms) {
      if (!only_algorithm.empty() && algorithm.name != only_algorithm) continue;
      const amct::AmctConfig config = config_of(algorithm.config);
      for (unsigned threads : {1u, 2u}) {
        if (threads > cores || (only_threads != 0 && threads != only_threads)) continue;
        amct::engine::EstimateOptions options;
        options.threads = threads;
        std::vector<double> times;
        double wall_total = 0, cpu_total = 0;
        amct::engine::ModelEstimate estimate;
        const double bandwidth_before = read_bandwidth(big, threads, bandwidth_repeat);
        // Warm-up: one run, and runs until kWarmupSeconds have passed (the
        // first algorithm of a process measured right after one warm-up run
        // got ~30 % less CPU on ResNet's 10 ms runs).
        const auto warmup_start = Clock::now();
        auto estimate_once = [&] {
          if (path.empty()) return amct::engine::estimate_model(config, model.weights, options);
          const amct::engine::LoadResult loaded = amct::engine::load_weights({path, std::nullopt, {}});
          if (!loaded.model) {
            std::fprintf(stderr, "engine_bench: %s\n", loaded.error.c_str());
            std::exit(1);
          }
          return amct::engine::estimate_model(config, *loaded.model, options);
        };
        do {
          estimate = estimate_once();
        } while (std::chrono::duration<double>(Clock::now() - warmup_start).count() < kWarmupSeconds);
        for (int r = 0; r < repeat; ++r) {
          const auto start = Clock::now();
          const double cpu_start = process_cpu_seconds();
          estimate = estimate_once();
          const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
          times.push_back(seconds);
          wall_total += seconds;
          cpu_total += process_cpu_seconds() - cpu_start;
        }
        const double seconds = median(times);
        // The higher of the measures before and after: a dip in one (a kernel
        // thread taking a vCPU after the model's allocation once read 12 GB/s
        // for 2 threads) must not flatter the figure.
        const double bandwidth = std::max(bandwidth_before, read_bandwidth(big, threads, bandwidth_repeat));
        const double gbps = bytes / seconds / 1e9;
        auto numpy = kNumpy.find(name + "/" + algorithm.name);
        char numpy_text[32] = "-";
        if (numpy != kNumpy.end() && dtype == amct::engine::DType::F32) {
          std::snprintf(numpy_text, sizeof numpy_text, "%.2f", threads == 1 ? numpy->second.first : numpy->second.second);
        }
        const amct::engine::EstimateSummary& s = estimate.summary;
        char figures[224];
        uint64_t kept = 0, total = 0;
        for (const auto& layer : estimate.layers) {
          if (layer.prune_figures) kept += layer.prune_figures->kept, total += layer.prune_figures->total;
        }
        if (total > 0) {
          double removed = 0, energy = 0;
          for (const auto& layer : estimate.layers) {
            removed += layer.prune_figures->sumsq_removed;
            energy += layer.prune_figures->sumsq_weight;
          }
          std::snprintf(figures, sizeof figures, "kept %llu/%llu, energy removed %.1f %%, overall relL2 %.4f",
                        static_cast<unsigned long long>(kept), static_cast<unsigned long long>(total),
                        100 * removed / energy, s.overall_rel_l2);
        } else {
          std::snprintf(figures, sizeof figures, "overall relL2 %.4f, mean SQNR %.1f dB", s.overall_rel_l2,
                        s.mean_sqnr_db.value_or(NAN));
        }
        // A tensor scanned whole first (it fits in cache) reads all of it a
        // second time, from cache, and quantizes none twice; the others read
        // again from memory the chunks whose scale was not the final one.
        uint64_t from_memory = 0, from_cache = 0, requantized = 0;
        for (const auto& layer : estimate.layers) {
          const bool scanned_whole = layer.reread_elements == layer.parameters && layer.requantized_elements == 0;
          (scanned_whole ? from_cache : from_memory) += layer.reread_elements;
          requantized += layer.requantized_elements;
        }
        if (from_memory + from_cache > 0) {
          const double parameters = static_cast<double>(model.weights.parameter_count());
          const size_t used = std::strlen(figures);
          std::snprintf(figures + used, sizeof figures - used,
                        ", read twice: %.1f %% from memory + %.1f %% from cache, quantized twice %.1f %%",
                        100.0 * static_cast<double>(from_memory) / parameters,
                        100.0 * static_cast<double>(from_cache) / parameters,
                        100.0 * static_cast<double>(requantized) / parameters);
        }
        // CPU share: the CPU time the run got out of threads x wall time (a
        // shared machine shows here why a figure is low).
        std::printf("%-14s %-26s %7u %9.4f %8.2f %9.1f %8.0f%% %6.0f%% %10s  %s\n", name.c_str(),
                    algorithm.name.c_str(), threads, seconds, gbps, bandwidth, 100 * gbps / bandwidth,
                    100 * cpu_total / (wall_total * threads),
                    numpy_text, figures);
        std::fflush(stdout);
      }
    }
  }
  std::printf("\n* NumPy GB/s from ../shared/perf/README.md (quant_ref.py on a quiet machine of this type; 2 threads =\n"
              "  --workers 2). CPU = CPU time the run got / (threads x wall time): below 100 %% the machine is shared.\n");
  return 0;
}
