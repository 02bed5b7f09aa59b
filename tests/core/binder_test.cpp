#include "core/model/binder.h"
#include "core/analysis.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>

#include "support/annotated.h"
#include "support/printers.h"

namespace pb = google::protobuf;
using amct::ByteRange;
using amct::Diagnostic;
using amct::Severity;
using amct::model::BoundDocument;
using amct::model::Field;
using amct::model::ScalarValue;
using amct::test::Annotated;

namespace {

constexpr const char* kProto = R"(
syntax = "proto2";
package t;
import "google/protobuf/any.proto";
enum DType { INT8 = 0; INT4 = 1; }
message ActULQquantize {
  optional DType dst_type = 1;
  optional float clip_max = 2;
  required int32 batch_num = 3;
}
message Cfg {
  optional int32 i32 = 1;
  optional uint32 u32 = 2;
  optional int64 i64 = 3;
  optional uint64 u64 = 4;
  optional float fl = 5;
  optional double db = 6;
  optional bool b = 7;
  optional string s = 8;
  optional bytes by = 9;
  optional DType dtype = 10;
  repeated int32 ri = 11;
  optional ActULQquantize quant = 12;
  repeated ActULQquantize quants = 13;
  oneof algo { ActULQquantize ulq = 14; ActULQquantize arq = 15; }
  optional Cfg child = 16;
  optional google.protobuf.Any any = 17;
  reserved "old";
  extensions 100 to 200;
}
extend Cfg { optional int32 ext = 100; }
)";

struct ProtoErrors : pb::io::ErrorCollector {
  void AddError(int, int, const std::string& message) override { FAIL("test schema: " << message); }
};

const pb::Descriptor* cfg_type() {
  static pb::DescriptorPool pool;
  static const pb::Descriptor* type = [] {
    pb::FileDescriptorProto any;
    pb::Any::descriptor()->file()->CopyTo(&any);
    pool.BuildFile(any);
    pb::io::ArrayInputStream input(kProto, static_cast<int>(std::strlen(kProto)));
    ProtoErrors errors;
    pb::io::Tokenizer tokenizer(&input, &errors);
    pb::compiler::Parser parser;
    pb::FileDescriptorProto file;
    parser.Parse(&tokenizer, &file);
    file.set_name("t.proto");
    pool.BuildFile(file);
    return pool.FindMessageTypeByName("t.Cfg");
  }();
  REQUIRE(type != nullptr);
  return type;
}

BoundDocument bind_text(const std::string& text, const pb::Descriptor* type = cfg_type()) {
  const amct::syntax::Document document(text);
  INFO("syntax: " << (document.syntax_diagnostics().empty() ? "" : document.syntax_diagnostics()[0].message));
  return amct::model::bind(document, type);
}

// The one diagnostic of the annotated text, on its [[range]].
Diagnostic only_diagnostic(std::string_view annotated, const char* code, Severity severity = Severity::Error) {
  const Annotated a(annotated);
  const BoundDocument bound = bind_text(a.text);
  INFO("text: " << a.text);
  for (const Diagnostic& d : bound.diagnostics) INFO("got [" << d.code << "] " << d.message);
  REQUIRE(bound.diagnostics.size() == 1);
  const Diagnostic& diagnostic = bound.diagnostics[0];
  CHECK(diagnostic.code == code);
  CHECK(diagnostic.severity == severity);
  CHECK(diagnostic.range == a.range());
  return diagnostic;
}

// The same, for texts where `[[ ]]` cannot mark a range that starts or ends
// with a bracket: the expected range is the first occurrence of `needle`.
Diagnostic only_diagnostic_on(const std::string& text, const std::string& needle, const char* code) {
  const BoundDocument bound = bind_text(text);
  INFO("text: " << text);
  for (const Diagnostic& d : bound.diagnostics) INFO("got [" << d.code << "] " << d.message);
  REQUIRE(bound.diagnostics.size() == 1);
  const Diagnostic& diagnostic = bound.diagnostics[0];
  CHECK(diagnostic.code == code);
  CHECK(diagnostic.severity == Severity::Error);
  const auto at = static_cast<uint32_t>(text.find(needle));
  CHECK(diagnostic.range == ByteRange{at, at + static_cast<uint32_t>(needle.size())});
  return diagnostic;
}

const ScalarValue& only_scalar(const BoundDocument& bound, std::string_view name) {
  const Field* field = bound.root.find(name);
  REQUIRE(field != nullptr);
  REQUIRE(field->scalars.size() == 1);
  return field->scalars[0];
}

}  // namespace

TEST_CASE("binder binds every scalar type as libprotobuf parses it", "[binder]") {
  const Annotated a(
      "i32: [[- 0x80000000]] u64: [[0xffffffffffffffff]] i64: [[-9223372036854775808]] u32: [[017]]\n"
      "fl: [[1.5f]] db: [[-Infinity]] b: [[t]] s: [[\"a\\n\" 'b\\x41\\101\\u00e9']] by: [[\"\\377\"]] "
      "dtype: [[INT4]] ri: [1, 2]");
  const BoundDocument bound = bind_text(a.text);
  CHECK(bound.diagnostics.empty());
  const ScalarValue& i32 = only_scalar(bound, "i32");
  CHECK(i32.kind == ScalarValue::Kind::Int);
  CHECK(i32.int_value == -2147483648LL);
  CHECK(i32.range == a.ranges[0]);
  CHECK(i32.text == "- 0x80000000");
  CHECK(only_scalar(bound, "u64").uint_value == 18446744073709551615ULL);
  CHECK(only_scalar(bound, "u64").range == a.ranges[1]);
  CHECK(only_scalar(bound, "i64").int_value == INT64_MIN);
  CHECK(only_scalar(bound, "u32").uint_value == 15);
  CHECK(only_scalar(bound, "fl").float_value == 1.5);
  CHECK(only_scalar(bound, "db").float_value == -INFINITY);
  CHECK(only_scalar(bound, "b").kind == ScalarValue::Kind::Bool);
  CHECK(only_scalar(bound, "b").bool_value);
  const ScalarValue& s = only_scalar(bound, "s");
  CHECK(s.kind == ScalarValue::Kind::String);
  CHECK(s.string_value == "a\nbAA\xc3\xa9");
  CHECK(s.range == a.ranges[7]);
  CHECK(only_scalar(bound, "by").string_value == "\xff");
  const ScalarValue& dtype = only_scalar(bound, "dtype");
  CHECK(dtype.kind == ScalarValue::Kind::Enum);
  REQUIRE(dtype.enum_value != nullptr);
  CHECK(dtype.enum_value->name() == "INT4");
  CHECK(dtype.int_value == 1);
  const Field* ri = bound.root.find("ri");
  REQUIRE(ri != nullptr);
  REQUIRE(ri->scalars.size() == 2);
  CHECK(ri->scalars[1].int_value == 2);
  CHECK(ri->descriptor->name() == "ri");
  CHECK(ri->has_colon);
}

TEST_CASE("a comment between adjacent strings is not part of the value", "[binder]") {
  // libprotobuf's tokenizer skips the comment: the value is "xy".
  const BoundDocument bound = bind_text("s: \"x\" # it's a comment\n 'y'");
  CHECK(bound.diagnostics.empty());
  CHECK(only_scalar(bound, "s").string_value == "xy");
}

TEST_CASE("binder binds messages, extensions and Any with their ranges", "[binder]") {
  const Annotated a(
      "quant [[{]] batch_num: 1 dst_type: 1 }\n"
      "[t.ext]: 5\n"
      "any { [type.googleapis.com/t.ActULQquantize] < batch_num: 2 > }\n"
      "quants: [{batch_num: 3}, {batch_num: 4}]");
  const BoundDocument bound = bind_text(a.text);
  CHECK(bound.diagnostics.empty());
  const Field* quant = bound.root.find("quant");
  REQUIRE(quant != nullptr);
  REQUIRE(quant->messages.size() == 1);
  CHECK(quant->messages[0].descriptor->name() == "ActULQquantize");
  CHECK(quant->messages[0].open_range == a.ranges[0]);
  CHECK(quant->messages[0].find("dst_type")->scalars[0].enum_value->name() == "INT4");
  const Field* ext = bound.root.find("[t.ext]");
  REQUIRE(ext != nullptr);
  CHECK(ext->descriptor->is_extension());
  const auto ext_at = static_cast<uint32_t>(a.text.find("[t.ext]"));
  CHECK(ext->name_range == ByteRange{ext_at, ext_at + 7});
  CHECK(ext->scalars[0].int_value == 5);
  const Field* packed = bound.root.find("any")->messages[0].find("[type.googleapis.com/t.ActULQquantize]");
  REQUIRE(packed != nullptr);
  const auto packed_at = static_cast<uint32_t>(a.text.find("[type"));
  CHECK(packed->name_range == ByteRange{packed_at, packed_at + 38});
  REQUIRE(packed->any_type != nullptr);
  CHECK(packed->any_type->name() == "ActULQquantize");
  CHECK(packed->messages[0].find("batch_num")->scalars[0].int_value == 2);
  CHECK(bound.root.find("quants")->messages.size() == 2);
  CHECK(bound.root.find_all("quants").size() == 1);
}

TEST_CASE("unknown-field names the message and suggests the closest field", "[binder]") {
  const Diagnostic d = only_diagnostic("quant { batch_num: 1 [[dst_typ]]: INT8 }", "unknown-field");
  CHECK(d.message == "unknown field 'dst_typ' in ActULQquantize; did you mean 'dst_type'?");
  CHECK(only_diagnostic("[[zzz]]: 1", "unknown-field").message == "unknown field 'zzz' in Cfg");
  // A nested setting written one level too high: say where it belongs.
  CHECK(only_diagnostic("[[batch_num]]: 1", "unknown-field").message ==
        "unknown field 'batch_num' in Cfg; it is a field of ActULQquantize: write it as quant { batch_num: ... }");
  CHECK_THAT(only_diagnostic_on("[t.nope]: 1", "[t.nope]", "unknown-field").message, Catch::Contains("t.nope"));
  CHECK_THAT(only_diagnostic_on("any { [example.com/t.Cfg] {} }", "[example.com/t.Cfg]", "unknown-field").message,
             Catch::Contains("type.googleapis.com/"));
}

TEST_CASE("type-mismatch: a value of the wrong kind", "[binder]") {
  CHECK_THAT(only_diagnostic("quant: [[1]]", "type-mismatch").message, Catch::Contains("message"));
  only_diagnostic("i32 [[{ }]]", "type-mismatch");
  only_diagnostic("i32: [[1.5]]", "type-mismatch");
  only_diagnostic("i32: [[\"1\"]]", "type-mismatch");
  only_diagnostic("s: [[abc]]", "type-mismatch");
  CHECK_THAT(only_diagnostic("fl: [[0x10]]", "type-mismatch").message, Catch::Contains("decimal"));
  only_diagnostic("dtype: [[1.0]]", "type-mismatch");
}

TEST_CASE("out-of-range per integer type; float overflow is only a warning", "[binder]") {
  CHECK_THAT(only_diagnostic("i32: [[2147483648]]", "out-of-range").message, Catch::Contains("int32"));
  only_diagnostic("i32: [[-2147483649]]", "out-of-range");
  only_diagnostic("u32: [[-1]]", "out-of-range");
  only_diagnostic("u32: [[0x100000000]]", "out-of-range");
  only_diagnostic("i64: [[-9223372036854775809]]", "out-of-range");
  only_diagnostic("u64: [[18446744073709551616]]", "out-of-range");
  only_diagnostic("dtype: [[2147483648]]", "out-of-range");
  only_diagnostic("fl: [[1e39]]", "out-of-range", Severity::Warning);
  CHECK(bind_text("db: 1e39 i64: 9223372036854775807 u32: 4294967295").diagnostics.empty());
}

TEST_CASE("invalid-enum-value and invalid-bool", "[binder]") {
  CHECK(only_diagnostic("dtype: [[INT44]]", "invalid-enum-value").message ==
        "'INT44' is not a value of enum DType (field 'dtype'); did you mean 'INT4'?");
  only_diagnostic("dtype: [[7]]", "invalid-enum-value");  // proto2 enums are closed
  only_diagnostic("dtype: [[-INT4]]", "invalid-enum-value");
  only_diagnostic("b: [[2]]", "invalid-bool");
  only_diagnostic("b: [[TRUE]]", "invalid-bool");
  only_diagnostic("b: [[-1]]", "invalid-bool");
  CHECK(bind_text("b: True b: f b: 0x1").diagnostics.size() == 2);  // duplicates only
}

TEST_CASE("missing-colon and not-repeated", "[binder]") {
  only_diagnostic("[[ri]] []", "missing-colon");
  CHECK(bind_text("ri: []").diagnostics.empty());
  only_diagnostic_on("i32: [1]", "[1]", "not-repeated");
  only_diagnostic_on("i32: []", "[]", "not-repeated");
  only_diagnostic_on("quant: [{batch_num: 1}]", "[{batch_num: 1}]", "not-repeated");
}

TEST_CASE("duplicate-field and oneof-conflict are warnings pointing at the other occurrence", "[binder]") {
  const Annotated a("[[i32]]: 1 [[i32]]: 2");
  const BoundDocument bound = bind_text(a.text);
  REQUIRE(bound.diagnostics.size() == 1);
  const Diagnostic& duplicate = bound.diagnostics[0];
  CHECK(duplicate.code == "duplicate-field");
  CHECK(duplicate.severity == Severity::Warning);
  CHECK(duplicate.range == a.ranges[1]);
  REQUIRE(duplicate.related.size() == 1);
  CHECK(duplicate.related[0].range == a.ranges[0]);
  CHECK(bound.root.find("i32")->scalars[0].int_value == 2);  // the last one, as protobuf keeps

  const Annotated b("[[ulq]] { batch_num: 1 } [[arq]] { batch_num: 2 }");
  const BoundDocument oneof = bind_text(b.text);
  REQUIRE(oneof.diagnostics.size() == 1);
  CHECK(oneof.diagnostics[0].code == "oneof-conflict");
  CHECK(oneof.diagnostics[0].severity == Severity::Warning);
  CHECK(oneof.diagnostics[0].range == b.ranges[1]);
  REQUIRE(oneof.diagnostics[0].related.size() == 1);
  CHECK(oneof.diagnostics[0].related[0].range == b.ranges[0]);
  CHECK_THAT(oneof.diagnostics[0].message, Catch::Contains("oneof 'algo'"));
  CHECK(bind_text("ri: 1 ri: [2, 3]").diagnostics.empty());
}

TEST_CASE("missing-required at the block's opening, judged after merging", "[binder]") {
  const Diagnostic d = only_diagnostic("quant [[{]] dst_type: INT8 }", "missing-required");
  CHECK(d.message == "ActULQquantize block is missing required field 'batch_num'");
  only_diagnostic("quants [[<]] >", "missing-required");
  // Two blocks of one singular field merge (Python's Merge and C++ both do).
  const BoundDocument merged = bind_text("quant { dst_type: INT8 } quant { batch_num: 1 }");
  REQUIRE(merged.diagnostics.size() == 1);
  CHECK(merged.diagnostics[0].code == "duplicate-field");
  // A later oneof member clears the earlier one, and its missing fields.
  const BoundDocument cleared = bind_text("ulq { } arq { batch_num: 1 }");
  REQUIRE(cleared.diagnostics.size() == 1);
  CHECK(cleared.diagnostics[0].code == "oneof-conflict");
  // Inside a packed Any too.
  only_diagnostic("any { [type.googleapis.com/t.ActULQquantize] [[{]] } }", "missing-required");
  // The root: at the start of the document.
  const amct::syntax::Document document("batch_num: 1");
  const BoundDocument root = amct::model::bind(document, cfg_type()->file()->FindMessageTypeByName("ActULQquantize"));
  CHECK(root.diagnostics.empty());
  const amct::syntax::Document empty("# nothing\n");
  const BoundDocument root_missing =
      amct::model::bind(empty, cfg_type()->file()->FindMessageTypeByName("ActULQquantize"));
  REQUIRE(root_missing.diagnostics.size() == 1);
  CHECK(root_missing.diagnostics[0].code == "missing-required");
  CHECK(root_missing.diagnostics[0].range == ByteRange{0, 0});
  CHECK_THAT(root_missing.diagnostics[0].message, Catch::Contains("'batch_num'"));
}

TEST_CASE("reserved names are skipped with a warning, as protobuf skips them", "[binder]") {
  const Diagnostic d = only_diagnostic("[[old]]: 5", "reserved-field", Severity::Warning);
  CHECK_THAT(d.message, Catch::Contains("reserved"));
  const BoundDocument separator = bind_text("old: 5; i32: 1");
  REQUIRE(separator.diagnostics.size() == 2);
  CHECK(separator.diagnostics[1].code == "unexpected-separator");
}

TEST_CASE("without a schema the structure is bound and nothing is reported", "[binder]") {
  const amct::syntax::Document document("a: 1 b { c: \"x\" d: [1.5, -2] } a: 2");
  const BoundDocument bound = amct::model::bind(document, nullptr);
  CHECK(bound.diagnostics.empty());
  REQUIRE(bound.root.fields.size() == 3);
  CHECK(bound.root.find("a")->scalars[0].int_value == 2);
  CHECK(bound.root.find_all("a").size() == 2);
  const Field* b = bound.root.find("b");
  REQUIRE(b->messages.size() == 1);
  CHECK(b->messages[0].find("c")->scalars[0].string_value == "x");
  CHECK(b->messages[0].find("d")->scalars[0].float_value == 1.5);
  CHECK(b->messages[0].find("d")->scalars[1].int_value == -2);
  CHECK(bound.root.find("zzz") == nullptr);
}

TEST_CASE("binder survives 100000 nested blocks and broken input", "[binder]") {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "child { ";
  for (int i = 0; i < 10000; ++i) deep += "} ";
  const BoundDocument bound = bind_text(deep);
  CHECK(bound.diagnostics.empty());
  const amct::model::Message* message = &bound.root;
  int depth = 0;
  while (const Field* child = message->find("child")) {
    message = &child->messages.at(0);
    ++depth;
  }
  CHECK(depth == 10000);
  // 100,000 levels: binding and destruction stay off the call stack.
  std::string deeper;
  for (int i = 0; i < 100000; ++i) deeper += "child{";
  for (int i = 0; i < 100000; ++i) deeper += "}";
  CHECK(bind_text(deeper).diagnostics.empty());
  // Error recovery input that once hung the scanner, and partial fields.
  for (const char* text : {"1}", "7 >", "i32: ;", "quant { batch_num: ", "[", "any { [type.googleapis.com/", "\xff\xfe"}) {
    const BoundDocument broken = bind_text(text);
    for (const Diagnostic& d : broken.diagnostics) CHECK(d.code != "missing-required");
  }
}

TEST_CASE("binder: a float the tree accepts but protobuf's tokenizer would not is never handed to ParseFloat", "[binder][fuzz]") {
  // Fuzz finding (fuzz_document): ":-.5" in a .cfg with a SoC made the binder
  // call Tokenizer::ParseFloat("-.5.5"), a libprotobuf FATAL (abort).
  amct::AnalysisOptions options;
  options.path = "/nonexistent-workspace/fuzz.cfg";
  options.workspace_root = "/nonexistent-workspace";
  options.soc = "Ascend310P";
  for (const char* text : {":-.5", "a:-.5", ":-.5 b: 1.5.5", "x: - .5e", "x: -1e+"}) {
    INFO(text);
    const amct::syntax::Document document(text);
    const auto analysis = amct::analyze(document, options);
    CHECK(!analysis.diagnostics.empty());
  }
  // The incremental edit that produced the bad token: ".5" appended to ":-.5".
  amct::syntax::Document edited(":-.5");
  amct::syntax::TextChange change;
  change.range = amct::syntax::Range{{0, 4}, {0, 4}};
  change.text = ".5";
  edited.apply_change(change, amct::syntax::PositionEncoding::Utf8);
  CHECK(!amct::analyze(edited, options).diagnostics.empty());  // no abort
  amct::syntax::Document field("clip_max: 1");
  change.range = amct::syntax::Range{{0, 11}, {0, 11}};
  change.text = ".5.5";
  field.apply_change(change, amct::syntax::PositionEncoding::Utf8);
  CHECK(!amct::analyze(field, options).diagnostics.empty());
}
