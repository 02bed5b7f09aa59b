// Weights loaders: strict JSON, safetensors (every hostile header rejected with
// a message), layer manifests, ONNX via the wire reader, .npy samples. Every
// file is written by the test itself.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/engine/strict_json.h"
#include "core/engine/weights_model.h"
#include "core/engine_test_support.h"
#include "support/temp_dir.h"

namespace amct::engine {
namespace {

using test::SafetensorsEntry;

LoadResult load(const test::TempDir& dir, const std::string& name, const std::string& bytes,
                std::optional<std::string> manifest = std::nullopt) {
  LoadOptions options;
  options.weights_path = dir.write(name, bytes);
  if (manifest) options.manifest_path = dir.write("manifest.json", *manifest);
  return load_weights(options);
}

std::string load_error(const std::string& bytes, const std::string& name = "m.safetensors") {
  test::TempDir dir;
  LoadResult result = load(dir, name, bytes);
  CHECK_FALSE(result.model);
  return result.error;
}

std::string header_error(const std::string& header, const std::string& data = "") {
  return load_error(test::safetensors_file(header, data));
}

}  // namespace

TEST_CASE("strict JSON reader", "[engine]") {
  JsonParseResult ok = parse_json(R"({"a": [1, 2.5, -3e2, true, null], "b": "x\u00e9\n", "n": 18446744073709551615})");
  REQUIRE(ok.value);
  CHECK(ok.value->find("a")->items().size() == 5);
  CHECK(ok.value->find("b")->as_string() == "x\xC3\xA9\n");
  CHECK(ok.value->find("n")->as_uint64() == UINT64_MAX);
  CHECK_FALSE(ok.value->find("a")->items()[1].as_uint64());
  for (const char* bad : {"{\"a\":1,}", "[1,]", "{a:1}", "01", "[1 2]", "\"\\x\"", "{\"a\":1} x", "",
                          "[\"\\ud800\"]", "1e999", "tru", "\"a\tb\"", "-", "1."}) {
    CAPTURE(bad);
    const JsonParseResult r = parse_json(bad);
    CHECK_FALSE(r.value);
    CHECK(r.error.rfind("at byte ", 0) == 0);
  }
  const JsonParseResult deep = parse_json(std::string(100, '[') + std::string(100, ']'));
  CHECK_FALSE(deep.value);
  CHECK_THAT(deep.error, Catch::Contains("nesting deeper than 64"));
  CHECK(parse_json(std::string(60, '[') + std::string(60, ']')).value);
}

TEST_CASE("safetensors: layers from X.weight, types inferred from rank", "[engine]") {
  test::TempDir dir;
  const std::vector<float> conv = test::random_weights(4 * 3 * 3 * 3, 1);
  const std::vector<float> fc = test::random_weights(10 * 8, 2);
  const LoadResult result = load(dir, "m.safetensors", test::safetensors_file({
      {"conv1.weight", "F32", {4, 3, 3, 3}, test::f32_bytes(conv)},
      {"bn1.weight", "F32", {4}, test::f32_bytes({1, 1, 1, 1})},
      {"bn1.num_batches_tracked", "I64", {}, std::string(8, '\0')},
      {"fc.weight", "F16", {10, 8}, test::f16_bytes(fc)},
      {"fc.bias", "F32", {10}, test::f32_bytes(std::vector<float>(10, 0.5f))},
      {"emb.weight", "BF16", {6, 4, 2}, test::bf16_bytes(std::vector<float>(48, 0.25f))},
  }));
  REQUIRE(result.model);
  const WeightsModel& model = *result.model;
  CHECK(model.format == "safetensors");
  REQUIRE(model.layers.size() == 3);
  CHECK(model.layers[0].name == "conv1");
  CHECK(model.layers[0].type == "Conv2d");
  CHECK(model.layers[0].type_inferred);
  CHECK(model.layers[0].weight.shape == std::vector<int64_t>{4, 3, 3, 3});
  CHECK(element_at(model.layers[0].weight, 7) == conv[7]);
  CHECK(model.layers[1].name == "fc");
  CHECK(model.layers[1].type == "Linear");
  CHECK(model.layers[1].weight.dtype == DType::F16);
  CHECK(element_at(model.layers[1].weight, 3) == half_to_float(float_to_half(fc[3])));
  CHECK(model.layers[2].type == "Conv1d");
  CHECK(element_at(model.layers[2].weight, 47) == 0.25f);
  CHECK(model.parameter_count() == 108 + 80 + 48);
  REQUIRE(model.notices.size() == 2);
  CHECK_THAT(model.notices[0], Catch::Contains("1 rank-1 weights"));
  CHECK_THAT(model.notices[1], Catch::Contains("inferred from the weight's rank"));
}

TEST_CASE("safetensors: hostile files are rejected with a message", "[engine]") {
  const std::string four_floats = test::f32_bytes({1, 2, 3, 4});
  CHECK_THAT(load_error("abc"), Catch::Contains("truncated"));
  CHECK_THAT(load_error(""), Catch::Contains("empty file"));
  // Header length larger than the file.
  std::string claims_more = test::safetensors_file("{}", "");
  claims_more[0] = 100;
  CHECK_THAT(load_error(claims_more), Catch::Contains("the header claims 100 bytes"));
  // Header length above the limit (without allocating it).
  std::string huge(16, '\0');
  huge[5] = 1;  // 2^40
  CHECK_THAT(load_error(huge), Catch::Contains("exceeds the limit"));
  {
    test::TempDir dir;
    LoadOptions options;
    options.weights_path = dir.write("small.safetensors", test::safetensors_file("{}", ""));
    options.safetensors.max_header_bytes = 1;
    CHECK_THAT(load_weights(options).error, Catch::Contains("exceeds the limit of 1 bytes"));
  }
  CHECK_THAT(header_error("{\"a\":", four_floats), Catch::Contains("not valid JSON"));
  CHECK_THAT(header_error("[1,2]"), Catch::Contains("not a JSON object"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})", four_floats),
             Catch::Contains("run past the end of the data section"));
  CHECK_THAT(header_error(R"({"a.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},)"
                          R"("b.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[4,12]}})",
                          four_floats),
             Catch::Contains("overlap"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})",
                          four_floats),
             Catch::Contains("overflows"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"F32","shape":[3,1],"data_offsets":[0,16]}})", four_floats),
             Catch::Contains("16 bytes for shape [3, 1] of F32 (expected 12)"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"I8","shape":[4,4],"data_offsets":[0,16]}})", four_floats),
             Catch::Contains("has dtype I8; the engine reads F32, F16 and BF16"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"Q3","shape":[4],"data_offsets":[0,16]}})", four_floats),
             Catch::Contains("unknown dtype 'Q3'"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", four_floats),
             Catch::Contains("\"shape\" must be a list of non-negative integers"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"F32","shape":[4],"data_offsets":[8,4]}})", four_floats),
             Catch::Contains("begin > end"));
  CHECK_THAT(header_error(R"({"w.weight":{"dtype":"F32","shape":[4]}})", four_floats),
             Catch::Contains("missing \"data_offsets\""));
  CHECK_THAT(header_error(R"({"w.weight":7})", four_floats), Catch::Contains("entry is not an object"));
  // A file cut inside the data section.
  std::string full = test::safetensors_file({{"w.weight", "F32", {2, 2}, four_floats}});
  CHECK_THAT(load_error(full.substr(0, full.size() - 3)), Catch::Contains("file truncated?"));
  LoadOptions missing;
  missing.weights_path = "/nonexistent/dir/none.safetensors";
  CHECK_THAT(load_weights(missing).error, Catch::Contains("cannot open /nonexistent/dir/none.safetensors"));
}

TEST_CASE("layer manifest gives types and groups", "[engine]") {
  test::TempDir dir;
  const std::string weights = test::safetensors_file({
      {"up.weight", "F32", {3, 2, 2, 2}, test::f32_bytes(std::vector<float>(24, 1.0f))},
      {"dw.weight", "F32", {4, 1, 3, 3}, test::f32_bytes(std::vector<float>(36, 1.0f))},
  });
  const LoadResult result = load(dir, "m.safetensors", weights, R"({"layers":[
      {"name":"up","type":"ConvTranspose2d","weight_shape":[3,2,2,2]},
      {"name":"dw","type":"Conv2d","weight_shape":[4,1,3,4],"groups":4},
      {"name":"ghost","type":"Linear"}]})");
  REQUIRE(result.model);
  const WeightsModel& model = *result.model;
  CHECK(model.find("up")->type == "ConvTranspose2d");
  CHECK(model.find("up")->output_axis_is_1);
  CHECK_FALSE(model.find("up")->type_inferred);
  CHECK(model.find("dw")->groups == 4);
  REQUIRE(model.notices.size() == 2);
  CHECK_THAT(model.notices[0], Catch::Contains("'dw' has weight_shape [4, 1, 3, 4]"));
  CHECK_THAT(model.notices[1], Catch::Contains("1 layers have no weight in the file (ghost)"));

  CHECK_THAT(load(dir, "m2.safetensors", weights, "{\"layers\":[{\"name\":\"up\"}]}").error,
             Catch::Contains("\"type\" must be a non-empty string"));
  CHECK_THAT(load(dir, "m3.safetensors", weights, "{\"layers\":[{\"name\":\"up\",\"type\":\"Linear\",\"groups\":0}]}").error,
             Catch::Contains("\"groups\" must be a positive integer"));
  CHECK_THAT(load(dir, "m4.safetensors", weights, "{\"layers\":[").error, Catch::Contains("not valid JSON"));
  CHECK_THAT(load(dir, "m5.safetensors", weights, "[]").error, Catch::Contains("expected {\"layers\""));
}

TEST_CASE("ONNX: initializers and nodes give layers, op types and groups", "[engine]") {
  test::TempDir dir;
  const std::vector<float> conv = test::random_weights(8 * 2 * 3 * 3, 4);
  const std::vector<float> gemm = test::random_weights(10 * 8, 5);
  const std::vector<float> matmul = test::random_weights(8 * 6, 6);
  const std::vector<float> deconv = test::random_weights(8 * 4 * 2 * 2, 7);
  using test::ProtoWriter;
  const std::string bytes = test::onnx_model(
      {test::onnx_node("/layer1/layer1.0/conv1/Conv", "Conv", {"x", "layer1.0.conv1.weight", "b"}, {{"group", 4}}),
       test::onnx_node("/up/ConvTranspose", "ConvTranspose", {"y", "up.weight"}),
       test::onnx_node("/fc/Gemm", "Gemm", {"z", "fc.weight"}, {{"transB", 1}}),
       test::onnx_node("/model/layers.0/mlp/down_proj/MatMul", "MatMul", {"h", "onnx::MatMul_77"}),
       test::onnx_node("/Relu", "Relu", {"fc.weight"}),
       test::onnx_node("/attn/MatMul", "MatMul", {"q", "k"})},
      {test::onnx_tensor_raw("layer1.0.conv1.weight", {8, 2, 3, 3}, 1, test::f32_bytes(conv)),
       test::onnx_tensor_raw("up.weight", {8, 4, 2, 2}, 10, test::f16_bytes(deconv)),
       test::onnx_tensor_floats("fc.weight", {10, 8}, gemm),
       test::onnx_tensor_raw("onnx::MatMul_77", {8, 6}, 1, test::f32_bytes(matmul))});
  const LoadResult result = load(dir, "m.onnx", bytes);
  REQUIRE(result.model);
  const WeightsModel& model = *result.model;
  CHECK(model.format == "onnx");
  REQUIRE(model.layers.size() == 4);
  const ModelLayer& c = model.layers[0];
  CHECK(c.name == "layer1.0.conv1");
  CHECK(c.type == "Conv2d");
  CHECK(c.groups == 4);
  CHECK_FALSE(c.type_inferred);
  CHECK(element_at(c.weight, 100) == conv[100]);
  CHECK(model.layers[1].type == "ConvTranspose2d");
  CHECK(model.layers[1].output_axis_is_1);
  CHECK(model.layers[1].weight.dtype == DType::F16);
  CHECK(model.layers[2].name == "fc");
  CHECK(model.layers[2].type == "Linear");
  CHECK_FALSE(model.layers[2].output_axis_is_1);
  CHECK(element_at(model.layers[2].weight, 79) == gemm[79]);
  CHECK(model.layers[3].name == "model.layers.0.mlp.down_proj");
  CHECK(model.layers[3].type == "Linear");
  CHECK(model.layers[3].output_axis_is_1);
  CHECK(model.notices.empty());
}

TEST_CASE("ONNX: malformed and unsupported models are rejected with a message", "[engine]") {
  test::TempDir dir;
  const std::string good = test::onnx_model(
      {test::onnx_node("/c/Conv", "Conv", {"x", "c.weight"})},
      {test::onnx_tensor_raw("c.weight", {2, 2, 1, 1}, 1, test::f32_bytes({1, 2, 3, 4}))});
  REQUIRE(load(dir, "ok.onnx", good).model);
  CHECK_THAT(load(dir, "cut.onnx", good.substr(0, good.size() - 5)).error, Catch::Contains("not a valid ONNX"));
  CHECK_THAT(load(dir, "text.onnx", "hello world, not protobuf").error, Catch::Contains("ONNX"));
  const std::string short_raw = test::onnx_model(
      {test::onnx_node("/c/Conv", "Conv", {"x", "c.weight"})},
      {test::onnx_tensor_raw("c.weight", {2, 2, 1, 1}, 1, test::f32_bytes({1, 2, 3}))});
  CHECK_THAT(load(dir, "short.onnx", short_raw).error, Catch::Contains("raw_data has 12 bytes"));
  const std::string doubles = test::onnx_model(
      {test::onnx_node("/c/Conv", "Conv", {"x", "c.weight"})},
      {test::onnx_tensor_raw("c.weight", {1, 1, 1, 1}, 11, std::string(8, '\0'))});
  CHECK_THAT(load(dir, "double.onnx", doubles).error, Catch::Contains("data_type 11"));
  test::ProtoWriter external = test::onnx_tensor_raw("c.weight", {2, 2, 1, 1}, 1, "");
  external.varint(14, 1);
  const LoadResult ext = load(dir, "ext.onnx", test::onnx_model({test::onnx_node("/c/Conv", "Conv", {"x", "c.weight"})}, {external}));
  REQUIRE(ext.model);
  CHECK(ext.model->layers.empty());
  CHECK_THAT(ext.model->notices.at(0), Catch::Contains("external data"));
}

TEST_CASE(".npy activation samples", "[engine]") {
  test::TempDir dir;
  const NpyResult ok = read_npy(dir.write("a.npy", test::npy_file({2, 3}, {1, 2, 3, 4, 5, 6})));
  REQUIRE(ok.array);
  CHECK(ok.array->view.shape == std::vector<int64_t>{2, 3});
  CHECK(element_at(ok.array->view, 5) == 6.0f);
  std::string cut = test::npy_file({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_THAT(read_npy(dir.write("b.npy", cut.substr(0, cut.size() - 4))).error, Catch::Contains("truncated data"));
  CHECK_THAT(read_npy(dir.write("c.npy", "not numpy")).error, Catch::Contains("not a .npy file"));
  std::string f8 = test::npy_file({1}, {1});
  f8.replace(f8.find("<f4"), 3, "<f8");
  CHECK_THAT(read_npy(dir.write("d.npy", f8)).error, Catch::Contains("dtype must be"));
}

}  // namespace amct::engine

namespace amct::engine {

TEST_CASE("loaders on bytes in memory: the same results as on files", "[engine]") {
  // The in-memory entry points (MappedFile::copy_of) are what the weights fuzz
  // target uses: the format is still chosen by the name, then by content.
  const std::string weights = test::safetensors_file(
      {{"conv1.weight", "F32", {2, 1, 1, 1}, test::f32_bytes({1, -2})}, {"fc.weight", "F32", {1, 2}, test::f32_bytes({3, 4})}});
  auto file = std::make_shared<const MappedFile>(MappedFile::copy_of(weights, "model.bin"));
  CHECK(file->size() == weights.size());
  CHECK(file->bytes() == weights);
  const LoadResult loaded = load_weights(file, {}, ManifestText{"m.json", R"({"layers":[{"name":"fc","type":"Linear"}]})"});
  REQUIRE(loaded.model);
  CHECK(loaded.model->format == "safetensors");
  REQUIRE(loaded.model->layers.size() == 2);
  CHECK(loaded.model->layers[0].type == "Conv2d");
  CHECK(loaded.model->layers[0].type_inferred);
  CHECK(loaded.model->layers[1].type == "Linear");
  CHECK_FALSE(loaded.model->layers[1].type_inferred);
  CHECK(element_at(loaded.model->layers[1].weight, 1) == 4.0f);

  // A .onnx name sends the same bytes to the ONNX reader.
  const LoadResult as_onnx = load_weights(std::make_shared<const MappedFile>(MappedFile::copy_of(weights, "m.onnx")), {});
  CHECK_FALSE(as_onnx.model);
  CHECK_THAT(as_onnx.error, Catch::StartsWith("m.onnx: "));
  const LoadResult bad_manifest = load_weights(file, {}, ManifestText{"m.json", "[]"});
  CHECK_FALSE(bad_manifest.model);
  CHECK_THAT(bad_manifest.error, Catch::StartsWith("m.json: "));
  CHECK(load_weights(std::make_shared<const MappedFile>(MappedFile::copy_of("", "e.safetensors")), {}).error ==
        "e.safetensors: empty file");

  const NpyResult sample =
      read_npy(std::make_shared<const MappedFile>(MappedFile::copy_of(test::npy_file({3}, {1, 2, 3}), "s.npy")));
  REQUIRE(sample.array);
  CHECK(element_at(sample.array->view, 2) == 3.0f);
}

}  // namespace amct::engine

namespace amct::engine {

TEST_CASE("the seed files of fuzz_weights load", "[engine]") {
  // fuzz/make_weights_seeds.py writes them: a selector byte (fuzz/fuzz_weights.cpp),
  // then a valid file. A seed that does not load would start the fuzzer from errors.
  const std::filesystem::path seeds = std::filesystem::path(AMCT_SOURCE_DIR) / "fuzz/corpus/weights";
  size_t weights = 0, manifests = 0, samples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(seeds)) {
    INFO(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 1);
    const std::string file = bytes.substr(1);
    switch (static_cast<unsigned char>(bytes[0]) % 5) {
      case 0:
      case 1:
      case 2: {
        static const char* const names[] = {"seed.safetensors", "seed.onnx", "seed.weights"};
        const LoadResult loaded = load_weights(
            std::make_shared<const MappedFile>(MappedFile::copy_of(file, names[static_cast<unsigned char>(bytes[0]) % 5])), {});
        INFO(loaded.error);
        REQUIRE(loaded.model);
        CHECK_FALSE(loaded.model->layers.empty());
        ++weights;
        break;
      }
      case 3:
        CHECK(parse_layer_manifest(file).error.empty());
        ++manifests;
        break;
      case 4: {
        const NpyResult sample = read_npy(std::make_shared<const MappedFile>(MappedFile::copy_of(file, "seed.npy")));
        INFO(sample.error);
        CHECK(sample.array);
        ++samples;
        break;
      }
    }
  }
  CHECK(weights >= 6);
  CHECK(manifests >= 2);
  CHECK(samples >= 2);
}

}  // namespace amct::engine
