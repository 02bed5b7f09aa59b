// Differential test: our verdict (syntax errors + binder errors) against
// libprotobuf's own C++ TextFormat::Parser on thousands of generated
// documents over a schema that exercises every scalar type, closed and open
// enums, nested/repeated/recursive messages, oneofs, required fields, maps, a
// group, reserved names, extensions and Any.
//
// The contract (core/model/binder.h):
//   we report an error  <=>  C++ rejects the document when singular
//                            overwrites are allowed (MergeFromString +
//                            IsInitialized; AMCT/Python keep the last value)
//   C++ ParseFromString rejects only because of an overwrite
//                        =>  we warn duplicate-field or oneof-conflict
//   we warn an overwrite (on a field with presence) => ParseFromString rejects
#include <google/protobuf/any.pb.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/model/binder.h"
#include "core/syntax/document.h"

namespace pb = google::protobuf;

namespace {

constexpr const char* kOpenProto = R"(
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

constexpr const char* kDiffProto = R"(
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

bool add_proto(pb::DescriptorPool& pool, const char* name, const char* source) {
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

const std::vector<std::string> kInt32 = {"0", "1", "-1", "42", "2147483647", "-2147483648", "0x7fffffff",
                                         "-0x80000000", "017", "- 7", "0X1F"};
const std::vector<std::string> kInt64 = {"0", "-1", "9223372036854775807", "-9223372036854775808",
                                         "0x7fffffffffffffff", "2147483648", "-2147483649", "0777"};
const std::vector<std::string> kUInt32 = {"0", "1", "4294967295", "0xffffffff", "07", "2147483648"};
const std::vector<std::string> kUInt64 = {"0", "18446744073709551615", "0xffffffffffffffff", "9223372036854775808"};
const std::vector<std::string> kFloat = {"0",   "1",    "-1",      "1.5",  "-2.25", ".5",   "5.",
                                         "1e10", "1.5f", "1F",      "inf",  "-inf",  "Infinity", "nan",
                                         "-NaN", "1e39", "-1e400",  "18446744073709551616", "0.0", "2E-3f",
                                         "-0",   "1e+5"};
const std::vector<std::string> kBool = {"true", "false", "True", "False", "t", "f", "1", "0", "0x1", "00"};
const std::vector<std::string> kString = {
    "\"abc\"", "'x'", "\"a\" 'b'", "\"\\n\\t\\\\\\\"\"", "\"\\x41\\101\\u00e9\\U0001F600\"", "\"\\U0010ffff\"",
    "\"\\ud800\"", "\"\"", "\"\xc3\xa9 \xc3\xbc\"", "\"\\777\\x4\"", "'it''s'", "\"\\?\\a\\b\\f\\v\\'\""};
const std::vector<std::string> kColor = {"RED", "GREEN", "BLUE", "NEG", "0", "1", "5", "-3"};
const std::vector<std::string> kOpenEnum = {"ZERO", "ONE", "0", "1", "7", "-9"};
const std::vector<std::string> kWrong = {
    "2147483648", "-2147483649", "4294967296", "9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "-1", "0x100000000", "0x10000000000000000", "1.0", "1e5", "-0", "inf", "nan",
    "-inf", "TRUE", "yes", "2", "PURPLE", "red", "-RED", "7", "\"str\"", "1.5f", "0x1", "017", "00",
    "\"\\U0020ffff\"", "-x", "abc", "12345678901234567890123", "-0x1", "GREEN", "Infinity", "-nan", "t",
    "'\\U0010ffff'", "{ }", "[1, 2]", "[]", "[RED]"};
const std::vector<std::string> kVocabulary = {
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

// ---------------------------------------------------------------------------
// The two checkers.

struct CppVerdict {
  bool strict_ok = false;   // ParseFromString (forbids singular overwrites), required fields set
  bool lenient_ok = false;  // MergeFromString (allows overwrites) + IsInitialized
  std::string strict_error;
  std::string lenient_error;
};

CppVerdict cpp_verdict(const Schema& schema, const std::string& text) {
  CppVerdict verdict;
  const pb::Message* prototype = schema.factory->GetPrototype(schema.root);
  {
    std::unique_ptr<pb::Message> message(prototype->New());
    pb::TextFormat::Parser parser;
    SilentErrors errors;
    parser.RecordErrorsTo(&errors);
    verdict.strict_ok = parser.ParseFromString(text, message.get());
    verdict.strict_error = errors.first;
    if (verdict.strict_ok && !message->IsInitialized()) {
      verdict.strict_ok = false;
      verdict.strict_error = "missing required: " + message->InitializationErrorString();
    }
  }
  {
    std::unique_ptr<pb::Message> message(prototype->New());
    pb::TextFormat::Parser parser;
    SilentErrors errors;
    parser.RecordErrorsTo(&errors);
    verdict.lenient_ok = parser.MergeFromString(text, message.get());
    verdict.lenient_error = errors.first;
    if (verdict.lenient_ok && !message->IsInitialized()) {
      verdict.lenient_ok = false;
      verdict.lenient_error = "missing required: " + message->InitializationErrorString();
    }
  }
  return verdict;
}

struct OurVerdict {
  bool has_error = false;
  bool warned_overwrite = false;
  bool overwrite_on_implicit_presence = false;  // proto3 `v: 0 v: 1`: C++ does not see it
  std::vector<amct::Diagnostic> diagnostics;
};

void collect_implicit_presence_names(const amct::model::Message& message, std::vector<amct::ByteRange>& out) {
  std::vector<const amct::model::Message*> stack{&message};
  while (!stack.empty()) {
    const amct::model::Message* current = stack.back();
    stack.pop_back();
    for (const auto& field : current->fields) {
      if (field.descriptor != nullptr && !field.descriptor->has_presence()) out.push_back(field.name_range);
      for (const auto& child : field.messages) stack.push_back(&child);
    }
  }
}

OurVerdict our_verdict(const Schema& schema, const std::string& text) {
  OurVerdict verdict;
  const amct::syntax::Document document(text);
  verdict.diagnostics = document.syntax_diagnostics();
  const amct::model::BoundDocument bound = amct::model::bind(document, schema.root);
  verdict.diagnostics.insert(verdict.diagnostics.end(), bound.diagnostics.begin(), bound.diagnostics.end());
  std::vector<amct::ByteRange> implicit;
  collect_implicit_presence_names(bound.root, implicit);
  for (const amct::Diagnostic& diagnostic : verdict.diagnostics) {
    if (diagnostic.severity == amct::Severity::Error) verdict.has_error = true;
    if (diagnostic.code == "duplicate-field" || diagnostic.code == "oneof-conflict") {
      verdict.warned_overwrite = true;
      if (std::find(implicit.begin(), implicit.end(), diagnostic.range) != implicit.end()) {
        verdict.overwrite_on_implicit_presence = true;
      }
    }
  }
  return verdict;
}

std::string describe(const std::string& text, const CppVerdict& cpp, const OurVerdict& ours) {
  std::ostringstream out;
  out << "document:\n----\n" << text << "\n----\n";
  out << "C++ ParseFromString: " << (cpp.strict_ok ? "accepts" : "rejects: " + cpp.strict_error) << "\n";
  out << "C++ MergeFromString: " << (cpp.lenient_ok ? "accepts" : "rejects: " + cpp.lenient_error) << "\n";
  out << "amct-lsp: " << (ours.has_error ? "error" : "no error") << "\n";
  for (const auto& d : ours.diagnostics) {
    out << "  " << amct::severity_name(d.severity) << " [" << d.code << "] " << d.range.start << "-" << d.range.end
        << ": " << d.message << "\n";
  }
  return out.str();
}

// The disagreement, or "" when the verdicts agree.
std::string disagreement(const CppVerdict& cpp, const OurVerdict& ours) {
  if (ours.has_error != !cpp.lenient_ok) return "error verdicts differ";
  if (!cpp.strict_ok && cpp.lenient_ok && !ours.warned_overwrite) {
    return "C++ rejects an overwrite we do not warn about";
  }
  if (ours.warned_overwrite && cpp.strict_ok && !ours.overwrite_on_implicit_presence) {
    return "we warn about an overwrite C++ accepts";
  }
  return "";
}

struct Tally {
  size_t documents = 0;
  size_t cpp_rejects = 0;
  size_t overwrite_only = 0;
  size_t failures = 0;
};

void check_document(const Schema& schema, const std::string& text, Tally& tally) {
  if (const char* dump = std::getenv("AMCT_DIFFERENTIAL_DUMP")) {  // the last document before a crash
    std::FILE* file = std::fopen(dump, "wb");
    if (file != nullptr) {
      std::fwrite(text.data(), 1, text.size(), file);
      std::fclose(file);
    }
  }
  const CppVerdict cpp = cpp_verdict(schema, text);
  const OurVerdict ours = our_verdict(schema, text);
  ++tally.documents;
  if (!cpp.lenient_ok) ++tally.cpp_rejects;
  if (!cpp.strict_ok && cpp.lenient_ok) ++tally.overwrite_only;
  const std::string problem = disagreement(cpp, ours);
  if (problem.empty()) return;
  ++tally.failures;
  if (tally.failures <= 15) FAIL_CHECK(problem << "\n" << describe(text, cpp, ours));
}

// libprotobuf logs serialization warnings (invalid UTF-8 in a packed Any);
// they are noise here.
struct QuietLogs {
  QuietLogs() { previous = pb::SetLogHandler([](pb::LogLevel, const char*, int, const std::string&) {}); }
  ~QuietLogs() { pb::SetLogHandler(previous); }
  pb::LogHandler* previous;
};

}  // namespace

// Known divergence, kept on purpose: libprotobuf 3.21's tokenizer accepts
// \U escapes up to \U001fffff (and emits the escape text verbatim above
// U+10FFFF); the grammar follows the text format spec and stops at
// \U0010ffff. Pinned so a change on either side is noticed.
TEST_CASE("known divergence: \\U escapes beyond U+10FFFF", "[binder][differential]") {
  Schema schema;
  QuietLogs quiet;
  const std::string text = "name: \"\\U00110000\"";
  CHECK(cpp_verdict(schema, text).lenient_ok);
  CHECK(our_verdict(schema, text).has_error);
}

TEST_CASE("binder verdicts equal libprotobuf's TextFormat::Parser on handpicked documents", "[binder][differential]") {
  using namespace std::string_literals;
  Schema schema;
  QuietLogs quiet;
  // Each line is one document; '|' stands for a newline.
  const std::vector<std::string> documents = {
      "name: 'x'",
      "",
      "name: 'x' name: 'y'",
      "name: 'x' pick_int: 1 pick_str: 's'",
      "name: 'x' pick_needy {} pick_int: 1",
      "name: 'x' pick_int: 1 pick_needy {}",
      "name: 'x' needy { need: 1 } needy { note: 'n' }",
      "name: 'x' needy { note: 'n' } needy { note: 'm' }",
      "name: 'x' needy { child { need: 1 } need: 2 } needy { child { note: '' } }",
      "name: 'x' needies [] needies [{need: 1}, {}]",
      "name: 'x' leaf: []",
      "name: 'x' leaves: []",
      "name: 'x' leaves []",
      "name: 'x' scalars { ri32: [] ri32 [] }",
      "name: 'x' scalars { i32: [] }",
      "name: 'x' scalars { i32: [1] }",
      "name: 'x' scalars { i32 { } }",
      "name: 'x' leaf: 1",
      "name: 'x' gone: 1; ",
      "name: 'x' gone: 1 legacy { a: [1, -inf] b: -nan } gone: -foo",
      "name: 'x' gone: []",
      "name: 'x' legacy [{}]",
      "name: 'x' legacy: [{}, {}]",
      "name: 'x' Grp { g: 1 } ",
      "name: 'x' grp { g: 1 } ",
      "name: 'x' [difftest.ext_int]: 1 [difftest.ext_leaf] { id: 2 } [difftest.ext_strs]: ['a', \"b\"]",
      "name: 'x' [difftest.Leaf.id]: 1",
      "name: 'x' any { [type.googleapis.com/difftest.Needy] { } }",
      "name: 'x' any { [type.googleapis.com/difftest.Needy] { need: 1 } }",
      "name: 'x' any { [type.googleapis.com/difftest.Leaf] { id: 1 }; }",
      "name: 'x' any { [type.googleapis.com/difftest.Leaf] { } [type.googleapis.com/difftest.Leaf] { } }",
      "name: 'x' any { [type.googleapis.com/difftest.Leaf]: 1 }",
      "name: 'x' any { [example.com/difftest.Leaf] { } }",
      "name: 'x' any { [difftest.ext_int]: 1 }",
      "name: 'x' [type.googleapis.com/difftest.Leaf] { }",
      "name: 'x' open { e: 7 v: 0 v: 1 }",
      "name: 'x' open { v: 1 v: 0 }",
      "name: 'x' open { p1: 1 p2: '' }",
      "name: 'x' scalars { open_in_closed: 7 }",
      "name: 'x' scalars { color: 2 }",
      "name: 'x' scalars { color: -3 color: NEG }",
      "name: 'x' scalars { fl: 1e39 db: -1e400 u64: 0xffffffffffffffff i64: -0x8000000000000000 }",
      "name: 'x' scalars { fl: 0x1 }",
      "name: 'x' scalars { fl: 01 }",
      "name: 'x' scalars { s: \"\\U0020ffff\" }",
      "name: 'x' scalars { b: 2 }",
      "name: 'x' scalars { b: -0 }",
      "name: 'x' scalars { u32: -0 }",
      "name: 'x' scalars { i32: - # c|5 }",
      "name: 'x' counts { key: 'a' value: 1 } counts { key: 'a' value: 2 } leaf_map { key: 1 value { id: 2 } }",
      "name: 'x' old_num: 3",
      "name: 'x' child { child { name: 'y' } }",
      "name: 'x' child { }",
      "name: 'x' child: < name: 'y' >",
      "name: 'x' ;",
      "name: 'x',",
      "name: 'x' scalars {}, leaf {};",
      "name: 'x' s\x01: 1",
      "name: 'x' scalars { s: \"a\x01\" }",
      "name: 'x' # \x01",
      "name: 'x' scalars { s: \"a\0b\" }"s,
      "name: 'x'\xc2\xa0",
  };
  Tally tally;
  for (std::string text : documents) {
    for (char& c : text) {
      if (c == '|') c = '\n';
    }
    check_document(schema, text, tally);
  }
  CHECK(tally.failures == 0);
}

TEST_CASE("binder verdicts equal libprotobuf's TextFormat::Parser on generated documents", "[binder][differential]") {
  Schema schema;
  QuietLogs quiet;
  Generator generator(schema.root, 20261125);
  Tally tally;
  const auto start = std::chrono::steady_clock::now();
  constexpr size_t kDocuments = 8000;
  size_t bytes = 0;
  for (size_t i = 0; i < kDocuments; ++i) {
    const std::string text = generator.next();
    bytes += text.size();
    check_document(schema, text, tally);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("differential: " << tally.documents << " documents, " << tally.cpp_rejects << " rejected by C++, "
                        << tally.overwrite_only << " rejected only for overwrites, " << tally.failures
                        << " disagreements, " << bytes << " bytes, " << seconds << " s");
  CHECK(tally.failures == 0);
  // The generator must produce both verdicts in quantity, or the test proves little.
  CHECK(tally.cpp_rejects > kDocuments / 5);
  CHECK(tally.documents - tally.cpp_rejects > kDocuments / 5);
  CHECK(tally.overwrite_only > kDocuments / 100);
}
