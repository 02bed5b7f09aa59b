#pragma once
// The schema and the document generator of the binder's differential test
// (tests/core/binder_differential_test.cpp), shared with the single-pass
// binder's test (tests/core/fast_binder_test.cpp): a schema exercising every
// scalar type, enums, nested/repeated/recursive messages, oneofs, required
// fields, maps, a group, reserved names, extensions and Any; documents drawn
// from it with wrong values now and then, then token-level mutations.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace amct::test_support {

namespace pb = google::protobuf;

inline constexpr const char* kOpenProto = R"(
syntax = "proto3";
package open;
enum OpenEnum { ZERO = 0; ONE = 1; }
message OpenMsg {
  OpenEnum e = 1;
  int32 v = 2;
  string s = 3;
  repeated int32 rv = 4;
  optional int32 ov = 5;
  oneof pick { int32 p1 = 6; string p2 = 7; }
}
)";

inline constexpr const char* kDiffProto = R"(
syntax = "proto2";
package difftest;
import "google/protobuf/any.proto";
import "open.proto";

enum Color { RED = 0; GREEN = 1; BLUE = 5; NEG = -3; }

message Leaf {
  optional int32 id = 1;
  optional string label = 2;
}

message Needy {
  required int32 need = 1;
  optional string note = 2;
  optional Needy child = 3;
  repeated Needy kids = 4;
}

message Scalars {
  optional int32 i32 = 1;
  optional int64 i64 = 2;
  optional uint32 u32 = 3;
  optional uint64 u64 = 4;
  optional sint32 s32 = 5;
  optional sint64 s64 = 6;
  optional fixed32 f32 = 7;
  optional fixed64 f64 = 8;
  optional sfixed32 sf32 = 9;
  optional sfixed64 sf64 = 10;
  optional float fl = 11;
  optional double db = 12;
  optional bool b = 13;
  optional string s = 14;
  optional bytes by = 15;
  optional Color color = 16;
  repeated int32 ri32 = 17;
  repeated double rdb = 18;
  repeated string rs = 19;
  repeated Color rcolor = 20;
  repeated bool rb = 21;
  repeated uint64 ru64 = 22;
  optional open.OpenEnum open_in_closed = 23;
}

message Root {
  required string name = 1;
  optional Scalars scalars = 2;
  repeated Scalars many = 3;
  optional Leaf leaf = 4;
  repeated Leaf leaves = 5;
  oneof choice {
    int32 pick_int = 6;
    string pick_str = 7;
    Leaf pick_leaf = 8;
    Needy pick_needy = 9;
  }
  optional Needy needy = 10;
  repeated Needy needies = 11;
  map<string, int32> counts = 12;
  map<int32, Leaf> leaf_map = 13;
  optional google.protobuf.Any any = 14;
  optional Root child = 15;
  optional open.OpenMsg open = 16;
  optional group Grp = 17 { optional int32 g = 1; }
  optional int32 old_num = 18 [deprecated = true];
  reserved 100;
  reserved "gone", "legacy";
  extensions 1000 to 1999;
}

extend Root {
  optional int32 ext_int = 1000;
  optional Leaf ext_leaf = 1001;
  repeated string ext_strs = 1002;
}
)";

struct SilentErrors : pb::io::ErrorCollector {
  std::string first;
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty()) first = std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
};

inline bool add_proto(pb::DescriptorPool& pool, const char* name, const char* source) {
  pb::io::ArrayInputStream input(source, static_cast<int>(std::strlen(source)));
  SilentErrors errors;
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  pb::FileDescriptorProto file;
  if (!parser.Parse(&tokenizer, &file)) return false;
  file.set_name(name);
  return pool.BuildFile(file) != nullptr;
}

struct Schema {
  pb::DescriptorPool pool;
  std::unique_ptr<pb::DynamicMessageFactory> factory;
  const pb::Descriptor* root = nullptr;

  Schema() {
    pb::FileDescriptorProto any;
    pb::Any::descriptor()->file()->CopyTo(&any);
    pool.BuildFile(any);
    REQUIRE(add_proto(pool, "open.proto", kOpenProto));
    REQUIRE(add_proto(pool, "diff.proto", kDiffProto));
    root = pool.FindMessageTypeByName("difftest.Root");
    REQUIRE(root != nullptr);
    factory = std::make_unique<pb::DynamicMessageFactory>(&pool);
  }
};

// ---------------------------------------------------------------------------
// Document generator: a valid-looking document from the schema, with wrong
// values drawn now and then, then token-level mutations.

inline const std::vector<std::string> kInt32 = {"0", "1", "-1", "42", "2147483647", "-2147483648", "0x7fffffff",
                                         "-0x80000000", "017", "- 7", "0X1F"};
inline const std::vector<std::string> kInt64 = {"0", "-1", "9223372036854775807", "-9223372036854775808",
                                         "0x7fffffffffffffff", "2147483648", "-2147483649", "0777"};
inline const std::vector<std::string> kUInt32 = {"0", "1", "4294967295", "0xffffffff", "07", "2147483648"};
inline const std::vector<std::string> kUInt64 = {"0", "18446744073709551615", "0xffffffffffffffff", "9223372036854775808"};
inline const std::vector<std::string> kFloat = {"0",   "1",    "-1",      "1.5",  "-2.25", ".5",   "5.",
                                         "1e10", "1.5f", "1F",      "inf",  "-inf",  "Infinity", "nan",
                                         "-NaN", "1e39", "-1e400",  "18446744073709551616", "0.0", "2E-3f",
                                         "-0",   "1e+5"};
inline const std::vector<std::string> kBool = {"true", "false", "True", "False", "t", "f", "1", "0", "0x1", "00"};
inline const std::vector<std::string> kString = {
    "\"abc\"", "'x'", "\"a\" 'b'", "\"\\n\\t\\\\\\\"\"", "\"\\x41\\101\\u00e9\\U0001F600\"", "\"\\U0010ffff\"",
    "\"\\ud800\"", "\"\"", "\"\xc3\xa9 \xc3\xbc\"", "\"\\777\\x4\"", "'it''s'", "\"\\?\\a\\b\\f\\v\\'\""};
inline const std::vector<std::string> kColor = {"RED", "GREEN", "BLUE", "NEG", "0", "1", "5", "-3"};
inline const std::vector<std::string> kOpenEnum = {"ZERO", "ONE", "0", "1", "7", "-9"};
inline const std::vector<std::string> kWrong = {
    "2147483648", "-2147483649", "4294967296", "9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "-1", "0x100000000", "0x10000000000000000", "1.0", "1e5", "-0", "inf", "nan",
    "-inf", "TRUE", "yes", "2", "PURPLE", "red", "-RED", "7", "\"str\"", "1.5f", "0x1", "017", "00",
    "\"\\U0020ffff\"", "-x", "abc", "12345678901234567890123", "-0x1", "GREEN", "Infinity", "-nan", "t",
    "'\\U0010ffff'", "{ }", "[1, 2]", "[]", "[RED]"};
inline const std::vector<std::string> kVocabulary = {
    ":", "{", "}", "<", ">", "[", "]", ",", ";", "-", "/", ".", "0x", "0x1p", "1.5.5", "10bar", "08", "1e",
    "\"\\z\"", "\"\\x\"", "\"\\u12\"", "\"open", "name", "scalars", "i32", "[difftest.ext_int]", "#c\n",
    "\"s\"", "1", "x", "gone", "Grp", "grp", "[type.googleapis.com/difftest.Leaf]", "needy", "need", "1.5",
    "[]", "{}", "-inf", "'q'"};

class Generator {
 public:
  Generator(const pb::Descriptor* root, uint32_t seed) : root_(root), rng_(seed) {}

  std::string next() {
    // A third of the documents carry no deliberate mistake, so that both
    // verdicts come out in quantity.
    noise_ = chance(0.66) ? 1.0 : 0.0;
    std::vector<std::string> tokens;
    emit_fields(root_, 0, tokens);
    mutate(tokens);
    std::string text;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text += chance(0.1) ? "\n" : " ";
      text += tokens[i];
    }
    return text;
  }

 private:
  bool mistake(double p) { return chance(p * noise_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  const std::string& one_of(const std::vector<std::string>& pool) { return pool[pick(pool.size())]; }

  static std::string field_name(const pb::FieldDescriptor* field) {
    if (field->is_extension()) return "[" + field->full_name() + "]";
    if (field->type() == pb::FieldDescriptor::TYPE_GROUP) return field->message_type()->name();
    return field->name();
  }

  std::string scalar(const pb::FieldDescriptor* field) {
    if (mistake(0.06)) return one_of(kWrong);
    using FD = pb::FieldDescriptor;
    switch (field->type()) {
      case FD::TYPE_INT32: case FD::TYPE_SINT32: case FD::TYPE_SFIXED32: return one_of(kInt32);
      case FD::TYPE_INT64: case FD::TYPE_SINT64: case FD::TYPE_SFIXED64: return one_of(chance(0.5) ? kInt64 : kInt32);
      case FD::TYPE_UINT32: case FD::TYPE_FIXED32: return one_of(kUInt32);
      case FD::TYPE_UINT64: case FD::TYPE_FIXED64: return one_of(chance(0.5) ? kUInt64 : kUInt32);
      case FD::TYPE_FLOAT: case FD::TYPE_DOUBLE: return one_of(kFloat);
      case FD::TYPE_BOOL: return one_of(kBool);
      case FD::TYPE_STRING: case FD::TYPE_BYTES: return one_of(kString);
      case FD::TYPE_ENUM: return one_of(field->enum_type()->name() == "Color" ? kColor : kOpenEnum);
      default: return "0";
    }
  }

  void emit_message_value(const pb::Descriptor* type, int depth, std::vector<std::string>& out) {
    const bool angle = chance(0.15);
    out.push_back(angle ? "<" : "{");
    if (depth < 4) emit_fields(type, depth + 1, out);
    out.push_back(angle ? ">" : "}");
  }

  void emit_value(const pb::FieldDescriptor* field, int depth, std::vector<std::string>& out) {
    const bool is_message = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
    if (is_message) {
      if (chance(0.3)) out.push_back(":");
      if (field->is_repeated() && chance(0.2)) {
        out.push_back("[");
        const size_t count = pick(3);
        for (size_t i = 0; i < count; ++i) {
          if (i > 0) out.push_back(",");
          emit_message_value(field->message_type(), depth, out);
        }
        out.push_back("]");
      } else if (mistake(0.03)) {
        out.push_back(scalar(field));
      } else {
        emit_message_value(field->message_type(), depth, out);
      }
    } else {
      if (!mistake(0.03)) out.push_back(":");
      if (field->is_repeated() ? chance(0.3) : mistake(0.02)) {
        out.push_back("[");
        const size_t count = pick(4);
        for (size_t i = 0; i < count; ++i) {
          if (i > 0) out.push_back(",");
          out.push_back(scalar(field));
        }
        out.push_back("]");
      } else {
        out.push_back(scalar(field));
      }
    }
    if (chance(0.2)) out.push_back(chance(0.5) ? "," : ";");
    if (chance(0.03)) out.push_back("# note\n");
  }

  void emit_field(const pb::FieldDescriptor* field, int depth, std::vector<std::string>& out) {
    std::string name = field_name(field);
    if (mistake(0.02) && name.size() > 2 && name[0] != '[') name.erase(pick(name.size()), 1);  // typo
    out.push_back(name);
    emit_value(field, depth, out);
  }

  void emit_any(int depth, std::vector<std::string>& out) {
    out.push_back("any");
    if (chance(0.2)) out.push_back(":");
    out.push_back("{");
    const size_t kind = pick(10);
    if (kind < 6) {
      static const std::vector<std::string> urls = {
          "[type.googleapis.com/difftest.Leaf]", "[type.googleapis.com/difftest.Needy]",
          "[type.googleprod.com/difftest.Leaf]", "[example.com/difftest.Leaf]",
          "[type.googleapis.com/difftest.Nope]",  "[type.googleapis.com/open.OpenMsg]"};
      const std::string& url = one_of(urls);
      out.push_back(url);
      if (chance(0.2)) out.push_back(":");
      const pb::Descriptor* type = root_->file()->pool()->FindMessageTypeByName(
          url.substr(url.find('/') + 1, url.size() - url.find('/') - 2));
      if (type == nullptr) type = root_->file()->pool()->FindMessageTypeByName("difftest.Leaf");
      emit_message_value(type, depth, out);
      if (mistake(0.1)) out.push_back(";");
    } else if (kind < 8) {
      out.insert(out.end(), {"type_url", ":", "\"type.googleapis.com/difftest.Leaf\"", "value", ":", "\"\""});
    } else if (kind < 9) {
      out.insert(out.end(), {"[difftest.ext_int]", ":", "1"});
    }
    out.push_back("}");
  }

  void emit_fields(const pb::Descriptor* type, int depth, std::vector<std::string>& out) {
    std::vector<std::vector<std::string>> chunks;
    const pb::OneofDescriptor* choice = nullptr;
    for (int i = 0; i < type->field_count(); ++i) {
      const pb::FieldDescriptor* field = type->field(i);
      if (field->containing_oneof() != nullptr && !field->containing_oneof()->is_synthetic()) {
        choice = field->containing_oneof();
        continue;
      }
      const bool recursive = field->message_type() == type || (field->message_type() && field->message_type()->name() == "Root");
      if (recursive && depth >= 3) continue;
      double p = field->is_required() ? 1 - 0.1 * noise_ : 0.25;
      if (field->name() == "any") {
        if (chance(0.3)) {
          chunks.emplace_back();
          emit_any(depth, chunks.back());
        }
        continue;
      }
      if (!chance(p)) continue;
      const size_t times = field->is_repeated() ? 1 + pick(3) : (mistake(0.05) ? 2 : 1);
      for (size_t t = 0; t < times; ++t) {
        chunks.emplace_back();
        emit_field(field, depth, chunks.back());
      }
    }
    if (choice != nullptr && chance(0.5)) {
      const size_t members = mistake(0.08) ? 2 : 1;
      for (size_t m = 0; m < members; ++m) {
        chunks.emplace_back();
        emit_field(choice->field(static_cast<int>(pick(choice->field_count()))), depth, chunks.back());
      }
    }
    if (type == root_) {
      std::vector<const pb::FieldDescriptor*> extensions;
      type->file()->pool()->FindAllExtensions(type, &extensions);
      for (const pb::FieldDescriptor* extension : extensions) {
        if (chance(0.15)) {
          chunks.emplace_back();
          emit_field(extension, depth, chunks.back());
        }
      }
      if (chance(0.04)) {
        chunks.push_back({"gone", ":", one_of(kWrong)});
        if (mistake(0.3)) chunks.back().push_back(";");
      }
      if (chance(0.03)) chunks.push_back({"legacy", "{", "a", ":", "1", "b", "{", "}", "}"});
      if (mistake(0.03)) chunks.push_back({"[difftest.nope]", ":", "1"});
      if (mistake(0.02)) chunks.push_back({"[difftest.Leaf.id]", ":", "1"});
    }
    if (chance(0.5)) std::shuffle(chunks.begin(), chunks.end(), rng_);
    for (auto& chunk : chunks) out.insert(out.end(), chunk.begin(), chunk.end());
  }

  void mutate(std::vector<std::string>& tokens) {
    if (tokens.empty() || !mistake(0.5)) return;
    const size_t count = 1 + pick(2);
    for (size_t m = 0; m < count && !tokens.empty(); ++m) {
      const size_t at = pick(tokens.size());
      switch (pick(5)) {
        case 0: tokens.erase(tokens.begin() + static_cast<long>(at)); break;
        case 1: tokens.insert(tokens.begin() + static_cast<long>(at), tokens[at]); break;
        case 2:
          if (at + 1 < tokens.size()) std::swap(tokens[at], tokens[at + 1]);
          break;
        case 3: tokens.insert(tokens.begin() + static_cast<long>(at), one_of(kVocabulary)); break;
        default: tokens[at] = one_of(kVocabulary); break;
      }
    }
  }

  const pb::Descriptor* root_;
  std::mt19937 rng_;
  double noise_ = 1.0;  // 0: no deliberate mistakes in this document
};


}  // namespace amct::test_support
