#include "core/schema/schema.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "support/temp_dir.h"

namespace pb = google::protobuf;
using amct::schema::amct_schema;
using amct::schema::load_schema;
using amct::schema::LoadOptions;
using amct::test::TempDir;

namespace {

const pb::FieldDescriptor* field_of(std::string_view message, std::string_view field) {
  const pb::Descriptor* type = amct_schema().pool->FindMessageTypeByName(std::string(message));
  REQUIRE(type != nullptr);
  const pb::FieldDescriptor* found = type->FindFieldByName(std::string(field));
  INFO(message << "." << field);
  REQUIRE(found != nullptr);
  return found;
}

struct Expected {
  const char* message;
  const char* field;
  int number;
  pb::FieldDescriptor::Label label;
  const char* type;  // message/enum full name, or the scalar type name
  const char* oneof;  // "" if none
};

}  // namespace

TEST_CASE("built-in schema: AMCTRetrainConfig is built from the embedded proto", "[schema]") {
  const amct::schema::Schema& schema = amct_schema();
  REQUIRE(schema.root != nullptr);
  CHECK(schema.root->full_name() == "AMCTRetrainConfig");
  CHECK(schema.is_amct);
  CHECK(schema.proto_path.empty());
  CHECK(schema.description == "AMCTRetrainConfig (built-in)");
  CHECK(schema.root->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO2);
  CHECK(schema.root->file()->package().empty());
  CHECK(&amct_schema() == &schema);  // built once
}

TEST_CASE("built-in schema: amct_schema is safe to first call from many threads", "[schema]") {
  std::vector<std::thread> threads;
  std::atomic<int> same{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&same] {
      if (amct_schema().root != nullptr && amct_schema().root->name() == "AMCTRetrainConfig") {
        ++same;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(same == 8);
}

TEST_CASE("built-in schema: field numbers, labels, types and oneofs are AMCT's", "[schema]") {
  using L = pb::FieldDescriptor;
  const std::vector<Expected> expected = {
      {"AMCTRetrainConfig", "batch_num", 1, L::LABEL_OPTIONAL, "uint32", ""},
      {"AMCTRetrainConfig", "retrain_data_quant_config", 2, L::LABEL_OPTIONAL, "RetrainDataQuantConfig", ""},
      {"AMCTRetrainConfig", "retrain_weight_quant_config", 3, L::LABEL_OPTIONAL, "RetrainWeightQuantConfig", ""},
      {"AMCTRetrainConfig", "skip_layers", 4, L::LABEL_REPEATED, "string", ""},
      {"AMCTRetrainConfig", "override_layer_configs", 5, L::LABEL_REPEATED, "RetrainOverrideLayer", ""},
      {"AMCTRetrainConfig", "skip_layer_types", 6, L::LABEL_REPEATED, "string", ""},
      {"AMCTRetrainConfig", "override_layer_types", 7, L::LABEL_REPEATED, "RetrainOverrideLayerType", ""},
      {"AMCTRetrainConfig", "prune_config", 8, L::LABEL_OPTIONAL, "PruneConfig", ""},
      {"AMCTRetrainConfig", "regular_prune_skip_layers", 9, L::LABEL_REPEATED, "string", ""},
      {"AMCTRetrainConfig", "regular_prune_skip_types", 10, L::LABEL_REPEATED, "string", ""},
      {"AMCTRetrainConfig", "quant_skip_layers", 11, L::LABEL_REPEATED, "string", ""},
      {"AMCTRetrainConfig", "quant_skip_types", 12, L::LABEL_REPEATED, "string", ""},
      {"AMCTRetrainConfig", "fakequant_precision_mode", 21, L::LABEL_OPTIONAL, "AMCTRetrainConfig.FakequantPrecisionMode", ""},
      {"RetrainDataQuantConfig", "ulq_quantize", 13, L::LABEL_OPTIONAL, "ActULQquantize", "data_quant_algo"},
      {"ActULQquantize", "clip_max_min", 1, L::LABEL_OPTIONAL, "ClipMaxMin", ""},
      {"ActULQquantize", "fixed_min", 2, L::LABEL_OPTIONAL, "bool", ""},
      {"ActULQquantize", "dst_type", 3, L::LABEL_OPTIONAL, "DataType", ""},
      {"ClipMaxMin", "clip_max", 3, L::LABEL_REQUIRED, "float", ""},
      {"ClipMaxMin", "clip_min", 5, L::LABEL_REQUIRED, "float", ""},
      {"RetrainWeightQuantConfig", "arq_retrain", 1, L::LABEL_OPTIONAL, "ARQRetrain", "weight_quant_algo"},
      {"RetrainWeightQuantConfig", "ulq_retrain", 2, L::LABEL_OPTIONAL, "WtsULQRetrain", "weight_quant_algo"},
      {"ARQRetrain", "dst_type", 1, L::LABEL_OPTIONAL, "DataType", ""},
      {"ARQRetrain", "channel_wise", 2, L::LABEL_OPTIONAL, "bool", ""},
      {"WtsULQRetrain", "dst_type", 1, L::LABEL_OPTIONAL, "DataType", ""},
      {"WtsULQRetrain", "channel_wise", 2, L::LABEL_OPTIONAL, "bool", ""},
      {"RetrainOverrideLayer", "layer_name", 1, L::LABEL_REQUIRED, "string", ""},
      {"RetrainOverrideLayer", "retrain_data_quant_config", 2, L::LABEL_OPTIONAL, "RetrainDataQuantConfig", ""},
      {"RetrainOverrideLayer", "retrain_weight_quant_config", 3, L::LABEL_OPTIONAL, "RetrainWeightQuantConfig", ""},
      {"RetrainOverrideLayer", "prune_config", 4, L::LABEL_OPTIONAL, "PruneConfig", ""},
      {"RetrainOverrideLayerType", "layer_type", 1, L::LABEL_REQUIRED, "string", ""},
      {"RetrainOverrideLayerType", "retrain_data_quant_config", 2, L::LABEL_OPTIONAL, "RetrainDataQuantConfig", ""},
      {"RetrainOverrideLayerType", "retrain_weight_quant_config", 3, L::LABEL_OPTIONAL, "RetrainWeightQuantConfig", ""},
      {"RetrainOverrideLayerType", "prune_config", 4, L::LABEL_OPTIONAL, "PruneConfig", ""},
      {"PruneConfig", "filter_pruner", 1, L::LABEL_OPTIONAL, "FilterPruner", "prune_algo"},
      {"PruneConfig", "n_out_of_m_pruner", 2, L::LABEL_OPTIONAL, "NOutOfMPruner", "prune_algo"},
      {"FilterPruner", "balanced_l2_norm_filter_prune", 1, L::LABEL_OPTIONAL, "BalancedL2NormFilterPruner", "filter_prune_algo"},
      {"BalancedL2NormFilterPruner", "prune_ratio", 1, L::LABEL_REQUIRED, "float", ""},
      {"BalancedL2NormFilterPruner", "ascend_optimized", 2, L::LABEL_OPTIONAL, "bool", ""},
      {"NOutOfMPruner", "l1_selective_prune", 1, L::LABEL_OPTIONAL, "L1SelectivePruner", "n_out_of_m_algo"},
      {"L1SelectivePruner", "n_out_of_m_type", 1, L::LABEL_OPTIONAL, "NOutOfMType", ""},
      {"L1SelectivePruner", "update_freq", 2, L::LABEL_OPTIONAL, "uint32", ""},
  };
  size_t fields_in_schema = 0;
  const pb::FileDescriptor* file = amct_schema().root->file();
  for (int i = 0; i < file->message_type_count(); ++i) {
    fields_in_schema += static_cast<size_t>(file->message_type(i)->field_count());
  }
  CHECK(fields_in_schema == expected.size());  // nothing more than the table's fields
  CHECK(file->message_type_count() == 14);

  for (const Expected& want : expected) {
    const pb::FieldDescriptor* field = field_of(want.message, want.field);
    INFO(want.message << "." << want.field);
    CHECK(field->number() == want.number);
    CHECK(field->label() == want.label);
    const std::string type = field->message_type() != nullptr ? field->message_type()->full_name()
                             : field->enum_type() != nullptr  ? field->enum_type()->full_name()
                                                              : std::string(field->type_name());
    CHECK(type == want.type);
    const pb::OneofDescriptor* oneof = field->real_containing_oneof();
    CHECK((oneof != nullptr ? oneof->name() : std::string()) == want.oneof);
  }
}

TEST_CASE("built-in schema: defaults and enums are AMCT's", "[schema]") {
  CHECK(field_of("AMCTRetrainConfig", "batch_num")->default_value_uint32() == 1);
  CHECK(field_of("AMCTRetrainConfig", "batch_num")->has_default_value());
  for (const char* message : {"ActULQquantize", "ARQRetrain", "WtsULQRetrain"}) {
    INFO(message);
    const pb::FieldDescriptor* dst_type = field_of(message, "dst_type");
    CHECK(dst_type->has_default_value());
    CHECK(dst_type->default_value_enum()->name() == "INT8");
  }
  CHECK(field_of("BalancedL2NormFilterPruner", "ascend_optimized")->default_value_bool() == true);
  CHECK(field_of("BalancedL2NormFilterPruner", "ascend_optimized")->has_default_value());
  CHECK(field_of("L1SelectivePruner", "n_out_of_m_type")->default_value_enum()->name() == "M4N2");
  CHECK(field_of("L1SelectivePruner", "update_freq")->has_default_value());
  CHECK(field_of("L1SelectivePruner", "update_freq")->default_value_uint32() == 0);
  CHECK_FALSE(field_of("ARQRetrain", "channel_wise")->has_default_value());  // per layer type
  CHECK_FALSE(field_of("ActULQquantize", "fixed_min")->has_default_value());

  const pb::DescriptorPool& pool = *amct_schema().pool;
  const pb::EnumDescriptor* data_type = pool.FindEnumTypeByName("DataType");
  REQUIRE(data_type != nullptr);
  REQUIRE(data_type->value_count() == 3);
  CHECK(data_type->FindValueByName("INT4")->number() == 0);
  CHECK(data_type->FindValueByName("INT8")->number() == 1);
  CHECK(data_type->FindValueByName("INT16")->number() == 2);
  const pb::EnumDescriptor* n_out_of_m = pool.FindEnumTypeByName("NOutOfMType");
  REQUIRE(n_out_of_m != nullptr);
  REQUIRE(n_out_of_m->value_count() == 1);
  CHECK(n_out_of_m->FindValueByName("M4N2")->number() == 0);
  const pb::EnumDescriptor* mode = pool.FindEnumTypeByName("AMCTRetrainConfig.FakequantPrecisionMode");
  REQUIRE(mode != nullptr);
  REQUIRE(mode->value_count() == 1);
  CHECK(mode->FindValueByName("FORCE_FP16_QUANT")->number() == 1);
}

TEST_CASE("built-in schema: embedded text is the repository's data file", "[schema]") {
  std::ifstream in(std::string(AMCT_SOURCE_DIR) + "/data/retrain_config.proto", std::ios::binary);
  const std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(!on_disk.empty());
  CHECK(amct::schema::amct_proto_text() == on_disk);
}

TEST_CASE("load_schema: a .proto with a package, an import and nested messages", "[schema]") {
  TempDir dir;
  dir.write("roots/common/units.proto", R"(syntax = "proto2";
package common;
message Size { optional int32 width = 1; optional int32 height = 2; }
)");
  dir.write("app/app.proto", R"(syntax = "proto3";
package acme.app;
import "common/units.proto";
message Config {
  message Window { common.Size size = 1; }
  repeated Window windows = 1;
  map<string, int32> limits = 2;
}
)");
  LoadOptions options;
  options.import_roots = {dir.path("roots")};
  const auto loaded = load_schema(dir.path("app/app.proto"), "acme.app.Config", options);
  INFO((loaded.error ? loaded.error->message : std::string()));
  REQUIRE(loaded.schema);
  CHECK_FALSE(loaded.error);
  const amct::schema::Schema& schema = *loaded.schema;
  REQUIRE(schema.root != nullptr);
  CHECK(schema.root->full_name() == "acme.app.Config");
  CHECK_FALSE(schema.is_amct);
  CHECK(schema.description == "acme.app.Config from " + dir.path("app/app.proto"));
  CHECK(schema.proto_path == dir.path("app/app.proto"));
  const pb::Descriptor* window = schema.root->FindFieldByName("windows")->message_type();
  CHECK(window->FindFieldByName("size")->message_type()->full_name() == "common.Size");
  CHECK(loaded.files.size() == 2);  // both files are tracked for cache validation

  SECTION("a name relative to the file's package is found too") {
    const auto relative = load_schema(dir.path("app/app.proto"), "Config.Window", options);
    REQUIRE(relative.schema);
    CHECK(relative.schema->root->full_name() == "acme.app.Config.Window");
  }
  SECTION("the schema keeps its pool alive after every other copy is gone") {
    amct::schema::Schema copy = *loaded.schema;
    const pb::Descriptor* root = copy.root;
    {
      auto again = load_schema(dir.path("app/app.proto"), "acme.app.Config", options);
      copy = *again.schema;
    }
    CHECK(copy.root->FindFieldByName("limits")->is_map());
    CHECK(root != copy.root);  // a separate pool each load
  }
}

TEST_CASE("load_schema: a file beside the .proto is imported without import roots",
          "[schema]") {
  TempDir dir;
  dir.write("p/base.proto", "syntax = \"proto2\";\nmessage Base { optional string id = 1; }\n");
  dir.write("p/top.proto",
            "syntax = \"proto2\";\nimport \"base.proto\";\nmessage Top { optional Base base = 1; }\n");
  const auto loaded = load_schema(dir.path("p/top.proto"), "Top");
  REQUIRE(loaded.schema);
  CHECK(loaded.schema->root->FindFieldByName("base")->message_type()->name() == "Base");
}

TEST_CASE("load_schema: a missing file is schema-file-not-found", "[schema]") {
  TempDir dir;
  const auto loaded = load_schema(dir.path("nope.proto"), "X");
  CHECK_FALSE(loaded.schema);
  REQUIRE(loaded.error);
  CHECK(loaded.error->code == "schema-file-not-found");
  CHECK_THAT(loaded.error->message, Catch::Contains("nope.proto") && Catch::Contains("does not exist"));

  const auto folder = load_schema(dir.path(""), "X");
  REQUIRE(folder.error);
  CHECK(folder.error->code == "schema-file-not-found");
}

TEST_CASE("load_schema: a .proto with errors is schema-error with protobuf's text and position",
          "[schema]") {
  TempDir dir;
  dir.write("bad.proto", "syntax = \"proto2\";\nmessage Bad {\n  optional int32 a = 1\n}\n");
  const auto loaded = load_schema(dir.path("bad.proto"), "Bad");
  CHECK_FALSE(loaded.schema);
  REQUIRE(loaded.error);
  CHECK(loaded.error->code == "schema-error");
  // protobuf's own words, at the line and column where it stopped (1-based).
  CHECK_THAT(loaded.error->message, Catch::Contains(dir.path("bad.proto") + ":4:1: Expected \";\"."));

  SECTION("an unknown type is reported by the descriptor builder, with a position") {
    dir.write("types.proto", "syntax = \"proto2\";\nmessage T {\n  optional Missing m = 1;\n}\n");
    const auto types = load_schema(dir.path("types.proto"), "T");
    REQUIRE(types.error);
    CHECK(types.error->code == "schema-error");
    CHECK_THAT(types.error->message,
               Catch::Contains(dir.path("types.proto") + ":3:12:") &&
                   Catch::Contains("\"Missing\" is not defined."));
  }
  SECTION("a missing import names the import") {
    dir.write("imp.proto", "syntax = \"proto2\";\nimport \"gone/x.proto\";\nmessage I {}\n");
    const auto imp = load_schema(dir.path("imp.proto"), "I");
    REQUIRE(imp.error);
    CHECK(imp.error->code == "schema-error");
    CHECK_THAT(imp.error->message, Catch::Contains("gone/x.proto"));
  }
}

TEST_CASE("load_schema: an unknown message lists what the file defines", "[schema]") {
  TempDir dir;
  dir.write("m.proto", R"(syntax = "proto2";
package shop;
message Order { message Line { optional int32 qty = 1; } }
message Customer {}
)");
  const auto loaded = load_schema(dir.path("m.proto"), "shop.Ordr");
  CHECK_FALSE(loaded.schema);
  REQUIRE(loaded.error);
  CHECK(loaded.error->code == "schema-message-not-found");
  CHECK_THAT(loaded.error->message, Catch::Contains("'shop.Ordr' is not defined"));
  CHECK_THAT(loaded.error->message, Catch::Contains("did you mean 'shop.Order'?"));
  CHECK_THAT(loaded.error->message,
             Catch::Contains("Available: shop.Order, shop.Order.Line, shop.Customer"));

  const auto unrelated = load_schema(dir.path("m.proto"), "Zebra");
  REQUIRE(unrelated.error);
  CHECK_THAT(unrelated.error->message, !Catch::Contains("did you mean"));
  CHECK_THAT(unrelated.error->message, Catch::Contains("Available:"));

  const auto unnamed = load_schema(dir.path("m.proto"), "");
  REQUIRE(unnamed.error);
  CHECK(unnamed.error->code == "schema-message-not-found");
  CHECK_THAT(unnamed.error->message, Catch::Contains("no message name given"));
}

TEST_CASE("load_schema: extra files join the same pool", "[schema]") {
  TempDir dir;
  dir.write("main.proto", "syntax = \"proto2\";\npackage m;\nmessage Root { extensions 100 to 200; }\n");
  dir.write("ext/ext.proto", R"(syntax = "proto2";
package e;
import "main.proto";
extend m.Root { optional string note = 100; }
)");
  LoadOptions options;
  options.import_roots = {dir.path("")};
  options.extra_files = {dir.path("ext/ext.proto")};
  const auto loaded = load_schema(dir.path("main.proto"), "m.Root", options);
  INFO((loaded.error ? loaded.error->message : std::string()));
  REQUIRE(loaded.schema);
  CHECK(loaded.schema->pool->FindExtensionByName("e.note") != nullptr);

  options.extra_files = {dir.path("ext/none.proto")};
  const auto missing = load_schema(dir.path("main.proto"), "m.Root", options);
  REQUIRE(missing.error);
  CHECK(missing.error->code == "schema-file-not-found");
}

TEST_CASE("load_schema: a file shadowed by an import root's file of the same name", "[schema]") {
  TempDir dir;
  dir.write("root/x.proto", "syntax = \"proto2\";\nmessage FromRoot {}\n");
  dir.write("mine/x.proto", "syntax = \"proto2\";\nmessage Mine {}\n");
  LoadOptions options;
  options.import_roots = {dir.path("root")};
  const auto loaded = load_schema(dir.path("mine/x.proto"), "Mine", options);
  CHECK_FALSE(loaded.schema);
  REQUIRE(loaded.error);
  CHECK(loaded.error->code == "schema-error");
  CHECK_THAT(loaded.error->message, Catch::Contains("shadowed by '" + dir.path("root/x.proto") + "'"));
}

TEST_CASE("load_schema: a leading dot in the message name is accepted", "[schema]") {
  TempDir dir;
  dir.write("p.proto", "syntax = \"proto2\";\npackage a.b;\nmessage C {}\n");
  const auto loaded = load_schema(dir.path("p.proto"), ".a.b.C");
  REQUIRE(loaded.schema);
  CHECK(loaded.schema->root->full_name() == "a.b.C");
}
