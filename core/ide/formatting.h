#pragma once
// Formatting of text-format documents (LSP `formatting` and `rangeFormatting`).
//
// One canonical layout:
//   - indentation from the options (tab_size spaces, or one tab, per level);
//   - one field per line: `name: value` for scalars and scalar lists,
//     `name {` … `}` for messages (a ':' before a message is dropped and
//     `<` `>` become `{` `}`: both are optional spellings in protobuf's text
//     format, so the meaning never changes), `{}` for an empty message;
//   - scalar lists on one line (`[1, 2, 3]`) when they fit in 100 columns and
//     hold no comment, else one element per line; message lists one message
//     per line; a ':' before a message list is kept as written (`name: []`
//     is the only spelling of an empty list for a scalar field);
//   - field separators (`,` `;`) removed;
//   - comments stay where they were: a trailing comment stays on its line
//     after one space, an own-line comment keeps its own line at the block's
//     indentation; header comments (`# proto-file:` …) are copied unchanged;
//   - blank lines between items kept (a run collapses to one), none after
//     `{` or before `}`; no trailing whitespace; exactly one final newline;
//     the document's line ending (LF or CRLF, from its first line with
//     content) is kept;
//   - strings, numbers and identifiers are copied byte for byte.
//   Indentation stops growing at 64 levels, so a 10,000-deep document does
//   not become gigabytes of spaces.
//
// A document with syntax errors is not formatted at all (no edits): error
// recovery may have attached text to the wrong block, and re-indenting or
// rewriting delimiters around it could change what the user meant. Editor
// buffers are often broken; formatting resumes as soon as they parse. The
// same holds for a header comment whose line goes on after a lone '\r' (the
// tree ends the header there, protobuf's tokenizer does not).
// And for a document whose parse gave up (too many unclosed brackets, or the
// time budget ran out, see Document::reparse()): its tree is empty.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/syntax/diagnostic.h"
#include "core/ide/text_edit.h"
#include "core/syntax/document.h"

namespace amct::ide {

struct FormattingOptions {
  uint32_t tab_size = 4;
  bool insert_spaces = true;
};


// The whole document in canonical layout, or nullopt when it has syntax errors.
std::optional<std::string> formatted_text(const syntax::Document& document,
                                          const FormattingOptions& options);

// Edits turning the document into formatted_text(): none when it is already
// formatted or has syntax errors, else one edit spanning the changed lines.
std::vector<TextEdit> format_document(const syntax::Document& document,
                                      const FormattingOptions& options);

// Formats only the whole lines that `range` touches (a range ending at the
// start of a line does not touch that line), with indentation computed from
// the enclosing blocks. Lines whose tokens would have to merge with tokens
// outside the range (joining a list onto its field's line, `{` `}` of an
// empty message) are left alone, and `<` `>` stay as written, so any range
// gives a valid document with the same meaning.
std::vector<TextEdit> format_range(const syntax::Document& document, ByteRange range,
                                   const FormattingOptions& options);

// `text` with non-overlapping `edits` applied (in any order).
std::string apply_edits(std::string_view text, std::vector<TextEdit> edits);

}  // namespace amct::ide
