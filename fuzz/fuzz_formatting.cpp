// Fuzz target (b): the formatter. For any text that parses without syntax
// errors, formatting is idempotent (format(format(x)) == format(x)), the
// result parses without errors, the edits of format_document() give the same
// text, and the meaning is unchanged: the same tokens for protobuf's own
// tokenizer (up to the spellings the formatter may change) and the same
// bound values and schema diagnostics under the built-in AMCT schema (as
// tests/core/formatting_test.cpp compares them). A range format keeps the
// meaning too.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/ide/formatting.h"
#include "core/model/binder.h"
#include "core/schema/schema.h"
#include "core/syntax/document.h"
#include "../tests/support/bound_values.h"

using namespace amct;
using amct::test::bound_values;
using amct::test::kParseGaveUp;
using amct::test::meaning_tokens;

namespace {

[[noreturn]] void fail(const char* what, const std::string& before, const std::string& after) {
  std::fprintf(stderr, "formatting invariant broken: %s\n--- before\n%s\n--- after\n%s\n", what, before.c_str(),
               after.c_str());
  std::abort();
}



void expect_same_meaning(const char* what, const std::string& before, const std::string& after) {
  const auto tokens_before = meaning_tokens(before);
  if (tokens_before && tokens_before != meaning_tokens(after)) fail(what, before, after);
  const auto values_before = bound_values(before);
  const auto values_after = bound_values(after);
  // A parse that ran out of its wall-clock budget (a starved CPU) is no verdict.
  auto gave_up = [](const std::vector<std::string>& values) { return !values.empty() && values[0] == kParseGaveUp; };
  if (gave_up(values_before) || gave_up(values_after)) return;
  if (values_before != values_after) fail(what, before, after);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  FuzzedDataProvider input(data, size);
  const uint8_t flags = input.ConsumeIntegral<uint8_t>();
  const uint32_t range_seed = input.ConsumeIntegral<uint32_t>();
  const std::string text = input.ConsumeRemainingBytesAsString();

  ide::FormattingOptions options;
  options.tab_size = 1 + (flags & 7);
  options.insert_spaces = (flags & 8) == 0;

  const syntax::Document document(text);
  const auto once = ide::formatted_text(document, options);
  if (!once) return 0;  // syntax errors: not formatted, by design

  const syntax::Document formatted(*once);
  // The parse has a wall-clock budget: on a starved CPU it may give up (an
  // empty tree for a text that is not blank). That says nothing about the
  // formatter, so the input is skipped (finding 259ce7556e81 was such a run).
  if (amct::test::parse_gave_up(formatted)) return 0;
  const auto twice = ide::formatted_text(formatted, options);
  if (!twice) fail("the formatted text has syntax errors", text, *once);
  if (*twice != *once) fail("not idempotent", *once, *twice);
  if (ide::apply_edits(text, ide::format_document(document, options)) != *once)
    fail("format_document edits differ from formatted_text", text, *once);
  expect_same_meaning("meaning changed by formatting", text, *once);

  // A range format: any range gives a valid document with the same meaning.
  const uint32_t length = static_cast<uint32_t>(text.size());
  const uint32_t start = range_seed % (length + 1);
  const uint32_t end = start + (range_seed >> 12) % (length - start + 1);
  const std::string ranged = ide::apply_edits(text, ide::format_range(document, {start, end}, options));
  const syntax::Document ranged_document(ranged);
  if (amct::test::parse_gave_up(ranged_document)) return 0;
  if (!ide::formatted_text(ranged_document, options)) fail("range format broke the syntax", text, ranged);
  expect_same_meaning("meaning changed by range formatting", text, ranged);
  return 0;
}
