#include "core/schema/param_docs.h"

#include <catch2/catch.hpp>

#include "core/schema/schema.h"

namespace pb = google::protobuf;
using amct::schema::amct_param_docs;
using amct::schema::amct_schema;
using amct::schema::parse_param_docs;

namespace {

std::string label_of(const pb::FieldDescriptor* field) {
  if (field->real_containing_oneof() != nullptr) return "oneof";
  switch (field->label()) {
    case pb::FieldDescriptor::LABEL_REQUIRED: return "required";
    case pb::FieldDescriptor::LABEL_REPEATED: return "repeated";
    case pb::FieldDescriptor::LABEL_OPTIONAL: return "optional";
  }
  return "?";
}

std::string type_of(const pb::FieldDescriptor* field) {
  if (field->message_type() != nullptr) return field->message_type()->name();
  if (field->enum_type() != nullptr) return field->enum_type()->name();
  return field->type_name();
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += "\n  " + item;
  return text;
}

void collect_enums(const pb::Descriptor* message, std::vector<const pb::EnumDescriptor*>& enums) {
  for (int i = 0; i < message->enum_type_count(); ++i) enums.push_back(message->enum_type(i));
}

}  // namespace

TEST_CASE("param docs: the embedded table parses without errors", "[schema]") {
  const auto& docs = amct_param_docs();
  INFO(join(docs.errors()));
  CHECK(docs.errors().empty());
  CHECK(docs.rows().size() > 60);
}

TEST_CASE("param docs: every item of the built-in schema is documented in both languages",
          "[schema]") {
  const auto& docs = amct_param_docs();
  const pb::FileDescriptor* file = amct_schema().root->file();
  std::vector<std::string> missing;
  std::vector<std::string> wrong;
  const auto check_text = [&missing](const amct::schema::ParamDoc* doc, const std::string& what) {
    if (doc == nullptr) {
      missing.push_back(what + ": no row");
      return;
    }
    if (doc->zh.empty()) missing.push_back(what + ": no Chinese description");
    if (doc->en.empty()) missing.push_back(what + ": no English description");
  };

  std::vector<const pb::EnumDescriptor*> enums;
  for (int i = 0; i < file->enum_type_count(); ++i) enums.push_back(file->enum_type(i));
  for (int m = 0; m < file->message_type_count(); ++m) {
    const pb::Descriptor* message = file->message_type(m);
    collect_enums(message, enums);
    check_text(docs.type(message->full_name()), message->full_name());
    for (int f = 0; f < message->field_count(); ++f) {
      const pb::FieldDescriptor* field = message->field(f);
      const std::string what = message->full_name() + "." + field->name();
      const amct::schema::ParamDoc* doc = docs.field(field);
      check_text(doc, what);
      if (doc == nullptr) continue;
      if (doc->label != label_of(field)) {
        wrong.push_back(what + ": label '" + doc->label + "', schema says '" + label_of(field) + "'");
      }
      if (doc->type != type_of(field)) {
        wrong.push_back(what + ": type '" + doc->type + "', schema says '" + type_of(field) + "'");
      }
    }
  }
  CHECK(enums.size() == 3);
  for (const pb::EnumDescriptor* type : enums) {
    check_text(docs.type(type->full_name()), type->full_name());
    for (int v = 0; v < type->value_count(); ++v) {
      check_text(docs.enum_value(type->value(v)), type->full_name() + "." + type->value(v)->name());
    }
  }
  INFO("missing:" << join(missing));
  CHECK(missing.empty());
  INFO("disagreeing with the schema:" << join(wrong));
  CHECK(wrong.empty());
}

TEST_CASE("param docs: every documented item exists in the built-in schema", "[schema]") {
  const pb::DescriptorPool& pool = *amct_schema().pool;
  std::vector<std::string> unknown;
  for (const auto& doc : amct_param_docs().rows()) {
    const std::string where = "line " + std::to_string(doc.line) + ": " + doc.message + " " + doc.field;
    if (doc.label == "message") {
      if (pool.FindMessageTypeByName(doc.message) == nullptr) unknown.push_back(where);
    } else if (doc.label == "enum") {
      if (pool.FindEnumTypeByName(doc.message) == nullptr) unknown.push_back(where);
    } else if (doc.label == "enum value") {
      const pb::EnumDescriptor* type = pool.FindEnumTypeByName(doc.message);
      if (type == nullptr || type->FindValueByName(doc.field) == nullptr) unknown.push_back(where);
    } else {
      const pb::Descriptor* message = pool.FindMessageTypeByName(doc.message);
      if (message == nullptr || message->FindFieldByName(doc.field) == nullptr) {
        unknown.push_back(where);
      }
    }
  }
  INFO("documented but not in the schema:" << join(unknown));
  CHECK(unknown.empty());
}

TEST_CASE("param docs: enum value rows give the meaning; SoC support is left to the SoC table", "[schema]") {
  const auto& docs = amct_param_docs();
  const auto* int4 = docs.enum_value("DataType", "INT4");
  REQUIRE(int4 != nullptr);
  CHECK(int4->en == "4-bit quantization.");
  CHECK(int4->zh == "4比特量化。");
  const auto* int16 = docs.enum_value("DataType", "INT16");
  REQUIRE(int16 != nullptr);
  CHECK_THAT(int16->en, !Catch::Contains("support"));
  // The field rows keep AMCT's own notes on SoC support.
  const auto* weight_dtype = docs.field("ARQRetrain", "dst_type");
  REQUIRE(weight_dtype != nullptr);
  CHECK_THAT(weight_dtype->zh, Catch::Contains("Atlas推理系列产品"));
  const auto* fp16 = docs.enum_value("AMCTRetrainConfig.FakequantPrecisionMode", "FORCE_FP16_QUANT");
  REQUIRE(fp16 != nullptr);
  CHECK_THAT(fp16->en, Catch::Contains("float16"));
  // <br> in a cell is a line break in the parsed text.
  const auto* dst_type = docs.field("ActULQquantize", "dst_type");
  REQUIRE(dst_type != nullptr);
  CHECK_THAT(dst_type->en, Catch::Contains("INT8 by default.\nINT8: every Ascend AI processor."));
  CHECK_THAT(dst_type->en, !Catch::Contains("<br>"));
}

TEST_CASE("param docs: lookups keep fields, types and enum values apart", "[schema]") {
  const auto& docs = amct_param_docs();
  CHECK(docs.field("AMCTRetrainConfig", "batch_num") != nullptr);
  CHECK(docs.field("AMCTRetrainConfig", "no_such_field") == nullptr);
  CHECK(docs.field("AMCTRetrainConfig", "-") == nullptr);        // the message row is not a field
  CHECK(docs.field("DataType", "INT4") == nullptr);              // an enum value is not a field
  CHECK(docs.enum_value("AMCTRetrainConfig", "batch_num") == nullptr);
  CHECK(docs.type("PruneConfig") != nullptr);
  CHECK(docs.type("DataType") != nullptr);
  CHECK(docs.type("Nope") == nullptr);
  CHECK(docs.field(nullptr) == nullptr);
  CHECK(docs.enum_value(nullptr) == nullptr);
}

TEST_CASE("param docs: malformed rows are skipped and listed, never thrown", "[schema]") {
  const std::string markdown =
      "Intro text.\n"
      "\n"
      "| message | label | type | field | description (zh) | description (en) |\n"
      "|---|---|---|---|---|---|\n"
      "| M | optional | int32 | a | 甲 | A with a \\| pipe |\n"
      "| M | optional | int32 | b | too few cells |\n"
      "| M | sometimes | int32 | c | 丙 | C |\n"
      "| M | optional | int32 | a | 重复 | duplicate |\n"
      "| | optional | int32 | d | 丁 | D |\n"
      "| M | message | - | x | 戊 | a message row with a field name |\n"
      "| M | optional | int32 | e | 戊 | E\n"  // no trailing pipe: still a row
      "\n"
      "| wrong | header |\n"
      "| M | optional | int32 | f | 己 | F |\n";
  std::vector<std::string> errors;
  amct::schema::ParamDocs docs;
  REQUIRE_NOTHROW(docs = parse_param_docs(markdown));
  const auto* a = docs.field("M", "a");
  REQUIRE(a != nullptr);
  CHECK(a->en == "A with a | pipe");
  CHECK(a->zh == "甲");
  CHECK(a->line == 5);
  CHECK(docs.field("M", "e") != nullptr);
  CHECK(docs.field("M", "e")->en == "E");
  for (const char* skipped : {"b", "c", "d", "x", "f"}) {
    INFO(skipped);
    CHECK(docs.field("M", skipped) == nullptr);
  }
  CHECK(docs.rows().size() == 2);
  REQUIRE(docs.errors().size() == 6);
  CHECK_THAT(docs.errors()[0], Catch::StartsWith("line 6:") && Catch::Contains("expected 6 cells, found 5"));
  CHECK_THAT(docs.errors()[1], Catch::StartsWith("line 7:") && Catch::Contains("unknown label 'sometimes'"));
  CHECK_THAT(docs.errors()[2], Catch::StartsWith("line 8:") && Catch::Contains("duplicate of line 5"));
  CHECK_THAT(docs.errors()[3], Catch::StartsWith("line 9:"));
  CHECK_THAT(docs.errors()[4], Catch::StartsWith("line 10:"));
  CHECK_THAT(docs.errors()[5], Catch::StartsWith("line 13:") && Catch::Contains("table header"));

  CHECK(parse_param_docs("").rows().empty());
  CHECK(parse_param_docs("|").errors().size() == 1);
  CHECK(parse_param_docs(std::string("\0|\xff|", 5)).rows().empty());
}
