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
#include <cmath>
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
#include "support/differential_generator.h"

namespace pb = google::protobuf;

namespace {

using amct::test_support::Generator;
using amct::test_support::Schema;
using amct::test_support::SilentErrors;

// ---------------------------------------------------------------------------
// The two checkers.

struct CppVerdict {
  bool strict_ok = false;   // ParseFromString (forbids singular overwrites), required fields set
  bool lenient_ok = false;  // MergeFromString (allows overwrites) + IsInitialized
  std::string strict_error;
  std::string lenient_error;
  std::unique_ptr<pb::Message> lenient_message;  // what C++ parsed with overwrites allowed
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
    verdict.lenient_message = std::move(message);
  }
  return verdict;
}

struct OurVerdict {
  amct::model::BoundDocument bound;
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
  verdict.bound = amct::model::bind(document, schema.root);
  const amct::model::BoundDocument& bound = verdict.bound;
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

// For an accepted document: the values we bound for the `scalars` blocks and
// `name`, compared with what C++ parsed (blocks of a singular field merge,
// the last value wins, repeated values append). "" when they agree.
std::string value_mismatch(const amct::model::Message& root, const pb::Message& parsed) {
  using Kind = amct::model::ScalarValue::Kind;
  const pb::Descriptor* scalars_type = parsed.GetDescriptor()->FindFieldByName("scalars")->message_type();
  std::vector<const amct::model::Field*> fields;  // every field of every root `scalars` block, in order
  for (const amct::model::Field* block : root.find_all("scalars")) {
    for (const amct::model::Message& message : block->messages) {
      for (const amct::model::Field& field : message.fields) fields.push_back(&field);
    }
  }
  const pb::Reflection* root_reflection = parsed.GetReflection();
  const pb::Message& scalars = root_reflection->GetMessage(parsed, parsed.GetDescriptor()->FindFieldByName("scalars"));
  const pb::Reflection* reflection = scalars.GetReflection();
  auto same = [&](const pb::FieldDescriptor* field, const amct::model::ScalarValue& ours, int index) -> bool {
    const bool repeated = field->is_repeated();
    using FD = pb::FieldDescriptor;
    switch (field->cpp_type()) {
      case FD::CPPTYPE_INT32:
        return ours.kind == Kind::Int && ours.int_value == (repeated ? reflection->GetRepeatedInt32(scalars, field, index)
                                                                     : reflection->GetInt32(scalars, field));
      case FD::CPPTYPE_INT64:
        return ours.kind == Kind::Int && ours.int_value == (repeated ? reflection->GetRepeatedInt64(scalars, field, index)
                                                                     : reflection->GetInt64(scalars, field));
      case FD::CPPTYPE_UINT32:
        return ours.kind == Kind::UInt && ours.uint_value == (repeated ? reflection->GetRepeatedUInt32(scalars, field, index)
                                                                       : reflection->GetUInt32(scalars, field));
      case FD::CPPTYPE_UINT64:
        return ours.kind == Kind::UInt && ours.uint_value == (repeated ? reflection->GetRepeatedUInt64(scalars, field, index)
                                                                       : reflection->GetUInt64(scalars, field));
      case FD::CPPTYPE_FLOAT:
      case FD::CPPTYPE_DOUBLE: {
        const double theirs = field->cpp_type() == FD::CPPTYPE_FLOAT
                                  ? (repeated ? reflection->GetRepeatedFloat(scalars, field, index) : reflection->GetFloat(scalars, field))
                                  : (repeated ? reflection->GetRepeatedDouble(scalars, field, index) : reflection->GetDouble(scalars, field));
        return ours.kind == Kind::Float && (ours.float_value == theirs || (std::isnan(ours.float_value) && std::isnan(theirs)));
      }
      case FD::CPPTYPE_BOOL:
        return ours.kind == Kind::Bool && ours.bool_value == (repeated ? reflection->GetRepeatedBool(scalars, field, index)
                                                                       : reflection->GetBool(scalars, field));
      case FD::CPPTYPE_STRING:
        return ours.kind == Kind::String && ours.string_value == (repeated ? reflection->GetRepeatedString(scalars, field, index)
                                                                           : reflection->GetString(scalars, field));
      case FD::CPPTYPE_ENUM:
        return ours.kind == Kind::Enum && ours.int_value == (repeated ? reflection->GetRepeatedEnumValue(scalars, field, index)
                                                                      : reflection->GetEnumValue(scalars, field));
      default: return true;
    }
  };
  for (int i = 0; i < scalars_type->field_count(); ++i) {
    const pb::FieldDescriptor* field = scalars_type->field(i);
    std::vector<const amct::model::ScalarValue*> values;
    for (const amct::model::Field* occurrence : fields) {
      if (occurrence->descriptor != field) continue;
      if (!field->is_repeated()) values.clear();
      for (const auto& value : occurrence->scalars) values.push_back(&value);
    }
    const int expected = field->is_repeated() ? reflection->FieldSize(scalars, field) : (reflection->HasField(scalars, field) ? 1 : 0);
    if (static_cast<int>(values.size()) != expected) {
      return "field '" + field->name() + "': " + std::to_string(values.size()) + " values bound, C++ has " + std::to_string(expected);
    }
    for (int v = 0; v < expected; ++v) {
      if (!same(field, *values[static_cast<size_t>(v)], v)) {
        return "field '" + field->name() + "': bound value '" + values[static_cast<size_t>(v)]->text + "' differs from C++'s";
      }
    }
  }
  const amct::model::Field* name = root.find("name");
  if (name == nullptr || name->scalars.empty() ||
      name->scalars.back().string_value != root_reflection->GetString(parsed, parsed.GetDescriptor()->FindFieldByName("name"))) {
    return "field 'name': bound value differs from C++'s";
  }
  return "";
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
  size_t values_compared = 0;
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
  std::string problem = disagreement(cpp, ours);
  if (problem.empty() && cpp.lenient_ok) {
    ++tally.values_compared;
    problem = value_mismatch(ours.bound.root, *cpp.lenient_message);
  }
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

// Known divergences of the syntax layer (grammar + Document), kept on
// purpose and pinned: libprotobuf accepts these, we report an error.
// - invalid UTF-8 inside a string or comment: libprotobuf 3.21 does not check
//   text format input; a text format file must be UTF-8 (spec), and editors
//   need UTF-8 to place positions;
// - a reserved field's value skipped by libprotobuf's permissive SkipField:
//   a list mixing scalars and messages, a '/'-separated name inside it.
TEST_CASE("known divergences: inputs only libprotobuf's skipping or byte-level reading accepts",
          "[binder][differential]") {
  Schema schema;
  QuietLogs quiet;
  for (const std::string text : {"name: \"\xff\"", "name: 'x' # \xff", "name: 'x' gone: [1, {}]",
                                 "name: 'x' legacy { [a/b/c]: 1 }"}) {
    INFO(text);
    CHECK(cpp_verdict(schema, text).lenient_ok);
    CHECK(our_verdict(schema, text).has_error);
  }
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
      "name: 'x' legacy { [a.b/c.d] { x: 1 }, [e.f]: 2; y: [{}]; z: 'a' 'b' } ",
      "name: 'x' legacy { x: [] }",
      "name: 'x' legacy { x [{}] }",
      "name: 'x' legacy: 1 ;",
      "name: 'x' gone: -Infinity gone: -inff",
      "name: 'x' child { name: 'y' child { name: 'z' needy { } } }",
      "name: 'x' needies { need: 1 kids { } }",
      "name: 'x' pick_needy { need: 1 } pick_needy { note: 'a' }",
      "name: 'x' pick_needy { } pick_int: 1 pick_needy { need: 1 }",
      "name: 'x' pick_needy { need: 1 } pick_int: 1 pick_needy { }",
      "name: 'x' any { [type.googleapis.com/difftest.Needy] { need: 1 } [type.googleapis.com/difftest.Needy] { } }",
      "name: 'x' any { type_url: 'a' [type.googleapis.com/difftest.Leaf] { } }",
      "name: 'x' any { [type.googleapis.com/google.protobuf.Any] { [type.googleapis.com/difftest.Needy] { } } }",
      "name: 'x' leaf_map { key: 1 value { id: 1 } } leaf_map { value: { label: 'a' } key: 1 }",
      "name: 'x' counts: [{key: 'a'}, {value: -2147483648}]",
      "name: 'x' scalars { rb: [t, f, True, 0, 1] rcolor: [RED, 1, -3] ru64: [0x0, 077] }",
      "name: 'x' scalars { i32: 1 } scalars { i32: 2 }",
      "name: 'x' Grp: { g: 1 }",
      "name: 'x' Grp [{ g: 1 }]",
      "name:'x'i32:1",
      "name:'x'scalars{i32:1}",
      "name: 'x' scalars { s: 'a' \"b\" 'c' }",
      "name: 'x' scalars { s: 'a' b: t }",
      "name: 'x' [ difftest . ext_int ] : 1",
      "name: 'x' any { [ type.googleapis.com / difftest.Leaf ] { } }",
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
                        << tally.overwrite_only << " rejected only for overwrites, " << tally.values_compared
                        << " with values compared, " << tally.failures
                        << " disagreements, " << bytes << " bytes, " << seconds << " s");
  CHECK(tally.failures == 0);
  // The generator must produce both verdicts in quantity, or the test proves little.
  CHECK(tally.cpp_rejects > kDocuments / 5);
  CHECK(tally.documents - tally.cpp_rejects > kDocuments / 5);
  CHECK(tally.overwrite_only > kDocuments / 100);
}
