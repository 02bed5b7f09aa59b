#include "core/model/fast_binder.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <unordered_set>
#include <utility>

#include "core/model/value_rules.h"
#include "core/parallel.h"
#include "core/syntax/utf.h"

// The tokenizer mirrors the grammar's lexical rules (grammar/grammar.js) and
// its external scanner (grammar/src/scanner.c: numbers, header keys and
// values); the binder mirrors bind() (binder.cpp) through the shared rules of
// value_rules.h. Where either would need error recovery, it declines.

namespace amct::model {

namespace pb = google::protobuf;
using pb::FieldDescriptor;
using rules::ScalarSyntax;

namespace {

constexpr uint32_t kNone = UINT32_MAX;

enum class NodeKind : uint8_t { Field, Message, ScalarList, MessageList, Scalar };

// One node of the parsed document: a field, a message, a list or a scalar.
// Children are linked (first_child / next_sibling) in one flat array.
// 24 bytes (a 35 MB config has two million): the four small members share
// one word, and one offset is enough beside `range` (a field's name starts
// it; a number's literal and a signed identifier's word end it; a message's
// opening bracket is its first byte).
struct Node {
  NodeKind kind = NodeKind::Field;
  ScalarSyntax::Kind scalar_kind : 8 = ScalarSyntax::Kind::Other;
  bool has_colon = false;  // Field
  bool negative = false;   // Scalar number
  ByteRange range;
  uint32_t aux = 0;  // Field: end of the name; number: start of the literal; signed identifier: start of the word
  uint32_t first_child = kNone;
  uint32_t next_sibling = kNone;

  ByteRange name() const { return {range.start, aux}; }                      // Field
  ByteRange open_bracket() const { return {range.start, range.start + 1}; }  // Message
  ByteRange tail() const { return {aux, range.end}; }  // a number's literal, a signed identifier's word
};
static_assert(sizeof(Node) == 24);

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// Bytes that continue an identifier (letters, digits, '_'): one table load
// per byte of the names that make up most of a config.
constexpr auto kIdentifierBytes = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  return table;
}();
bool continues_identifier(char c) { return kIdentifierBytes[static_cast<unsigned char>(c)]; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A run of top-level items: the whole document, or one of two halves
// parsed on two threads.
struct Part {
  std::vector<Node> nodes;
  uint32_t first_top_level = kNone;
  size_t top_level_count = 0;  // counted as parsed: a walk over them would miss the cache at each
  std::vector<FastHeader> headers;
  std::vector<std::string_view> top_level_fields;  // distinct in this part
};

}  // namespace

struct FastSyntax::Tree {
  std::string_view text;
  std::vector<Part> parts;  // in text order
  std::vector<FastHeader> headers;
  std::vector<std::string_view> top_level_fields;
};

FastSyntax::FastSyntax() : tree_(std::make_unique<Tree>()) {}
FastSyntax::~FastSyntax() = default;
FastSyntax::FastSyntax(FastSyntax&&) noexcept = default;
FastSyntax& FastSyntax::operator=(FastSyntax&&) noexcept = default;
const std::vector<FastHeader>& FastSyntax::headers() const { return tree_->headers; }
const std::vector<std::string_view>& FastSyntax::top_level_fields() const { return tree_->top_level_fields; }
bool FastSyntax::split_in_two() const { return tree_->parts.size() > 1; }

namespace {

// Valid UTF-8, no control characters but tab, newline and carriage return
// (tree-sitter and protobuf treat \f, \v and NUL in their own ways).
bool bytes_acceptable(std::string_view text) {
  bool non_ascii = false;
  size_t scalar_from = 0;
#if defined(__SSE2__)
  // 16 bytes at a time (this scan runs over the whole file beside the parse).
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i carriage_return = _mm_set1_epi8('\r');
  const __m128i del = _mm_set1_epi8(0x7f);
  for (; scalar_from + 16 <= text.size(); scalar_from += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + scalar_from));
    const int high = _mm_movemask_epi8(bytes);  // bytes >= 0x80
    // Signed compare: below 0x20, or >= 0x80 (masked out with `high`).
    const __m128i below_space = _mm_cmplt_epi8(bytes, space);
    const __m128i allowed = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, tab), _mm_cmpeq_epi8(bytes, newline)),
                                         _mm_cmpeq_epi8(bytes, carriage_return));
    const int control = _mm_movemask_epi8(_mm_andnot_si128(allowed, below_space)) & ~high;
    if (control != 0 || _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, del)) != 0) return false;
    non_ascii = non_ascii || high != 0;
  }
#endif
  for (char c : text.substr(scalar_from)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      non_ascii = true;
    } else if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f) {
      return false;
    }
  }
  return !non_ascii || syntax::find_invalid_utf8(text) == std::string_view::npos;
}

enum class ParseEnd { Declined, End, Stop };

// Recursive descent over the grammar; any deviation declines.
class Parser {
 public:
  // Parses top-level items from `start` (the start of the document, or of a
  // line at the top level) to the end of the text, or until the top level
  // reaches `stop` (ParseEnd::Stop: exactly there, between two items).
  Parser(std::string_view text, Part& part, size_t start, size_t stop)
      : text_(text), tree_(part), pos_(start), stop_(stop) {}

  ParseEnd parse() {
    // About one node per 17 bytes in generated 100,000-override configs; a
    // denser text grows the vector.
    tree_.nodes.reserve((std::min(stop_, text_.size()) - pos_) / 16 + 16);
    std::unordered_set<std::string_view> seen;
    uint32_t last = kNone;
    while (true) {
      skip_extras(/*headers_valid=*/true);
      if (pos_ >= text_.size()) return ParseEnd::End;
      if (pos_ == stop_) return ParseEnd::Stop;
      if (pos_ > stop_) stop_ = std::string_view::npos;  // the guess was inside an item: go on alone
      if (text_[pos_] == '#') {  // skip_extras stopped at a header
        if (!parse_header()) return ParseEnd::Declined;
        continue;
      }
      const uint32_t field = parse_field(/*top_level=*/true, 0);
      if (field == kNone) return ParseEnd::Declined;
      if (last == kNone) {
        tree_.first_top_level = field;
      } else {
        tree_.nodes[last].next_sibling = field;
      }
      last = field;
      ++tree_.top_level_count;
      const ByteRange name = tree_.nodes[field].name();
      const std::string_view name_text = text_.substr(name.start, name.end - name.start);
      if (seen.insert(name_text).second) tree_.top_level_fields.push_back(name_text);
    }
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  char at(size_t offset) const { return offset < text_.size() ? text_[offset] : '\0'; }

  // Skips whitespace and comments. With `headers_valid` (top level, where a
  // new field may start), stops at a header comment: '#' that starts its
  // line (scanner.c: a newline skipped since the last token, or the start of
  // the document) followed by a known key.
  void skip_extras(bool headers_valid) {
    // (The position lives in a local: a char read may alias the member.)
    const char* const data = text_.data();
    const size_t size = text_.size();
    size_t pos = pos_;
    bool line_start = line_start_;
    while (pos < size) {
      const char c = data[pos];
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
        pos = skip_blanks(pos, line_start);
      } else if (c == '#') {
        if (headers_valid && line_start && header_key_end(pos) != 0) break;
        const void* newline = std::memchr(data + pos, '\n', size - pos);
        pos = newline == nullptr ? size : static_cast<size_t>(static_cast<const char*>(newline) - data);
        line_start = false;
      } else {
        break;
      }
    }
    pos_ = pos;
    line_start_ = line_start;
  }

  // The position after the run of spaces, tabs, carriage returns and
  // newlines at `pos` (a newline in it sets `line_start`): 16 bytes at a
  // time, as a config is mostly a newline and indentation between tokens.
  size_t skip_blanks(size_t pos, bool& line_start) const {
    const char* const data = text_.data();
    const size_t size = text_.size();
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i carriage_return = _mm_set1_epi8('\r');
    while (pos + 16 <= size) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
      const __m128i newlines = _mm_cmpeq_epi8(bytes, newline);
      const __m128i blanks = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, space), newlines),
                                          _mm_or_si128(_mm_cmpeq_epi8(bytes, tab), _mm_cmpeq_epi8(bytes, carriage_return)));
      const unsigned blank_mask = static_cast<unsigned>(_mm_movemask_epi8(blanks));
      const unsigned newline_mask = static_cast<unsigned>(_mm_movemask_epi8(newlines));
      if (blank_mask == 0xFFFF) {
        line_start = line_start || newline_mask != 0;
        pos += 16;
        continue;
      }
      const unsigned run = static_cast<unsigned>(__builtin_ctz(~blank_mask));
      line_start = line_start || (newline_mask & ((1u << run) - 1)) != 0;
      return pos + run;
    }
#endif
    for (; pos < size; ++pos) {
      const char c = data[pos];
      if (c == '\n') {
        line_start = true;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        break;
      }
    }
    return pos;
  }

  // The end of a header key (`# soc:`) starting at `at`, or 0.
  size_t header_key_end(size_t at) const {
    static constexpr std::string_view kKeys[] = {"proto-file", "proto-message", "proto-import", "soc", "amct-api"};
    size_t p = at + 1;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    const size_t word_start = p;
    while (p < text_.size() && ((text_[p] >= 'a' && text_[p] <= 'z') || text_[p] == '-')) {
      if (p - word_start + 1 >= 16) return 0;
      ++p;
    }
    if (p >= text_.size() || text_[p] != ':') return 0;
    const std::string_view word = text_.substr(word_start, p - word_start);
    for (std::string_view key : kKeys) {
      if (word == key) return p + 1;
    }
    return 0;
  }

  bool parse_header() {
    const size_t key_end = header_key_end(pos_);
    if (key_end == 0) return false;
    FastHeader header;
    header.key_range = {static_cast<uint32_t>(pos_), static_cast<uint32_t>(key_end)};
    header.key_text = text_.substr(pos_, key_end - pos_);
    size_t p = key_end;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    size_t line_end = p;
    while (line_end < text_.size() && text_[line_end] != '\n' && text_[line_end] != '\r') ++line_end;
    header.range = header.key_range;
    pos_ = key_end;
    if (line_end > p) {
      header.value_range = ByteRange{static_cast<uint32_t>(p), static_cast<uint32_t>(line_end)};
      header.range.end = static_cast<uint32_t>(line_end);
      pos_ = line_end;
    }
    line_start_ = false;
    tree_.headers.push_back(header);
    return true;
  }

  uint32_t add(const Node& node) {
    tree_.nodes.push_back(node);
    return static_cast<uint32_t>(tree_.nodes.size() - 1);
  }

  void append_child(uint32_t parent, uint32_t& last_child, uint32_t child) {
    if (last_child == kNone) {
      tree_.nodes[parent].first_child = child;
    } else {
      tree_.nodes[last_child].next_sibling = child;
    }
    last_child = child;
  }

  bool parse_identifier(ByteRange& range) {
    if (!is_letter(peek())) return false;
    const size_t start = pos_;
    pos_ = identifier_end(start + 1);
    range = {static_cast<uint32_t>(start), static_cast<uint32_t>(pos_)};
    line_start_ = false;
    return true;
  }

  // The end of the run of identifier bytes (letters, digits, '_') at `pos`:
  // 16 bytes at a time, as most of a config is field names and enum words
  // (and in a local: a char read may alias the member position).
  size_t identifier_end(size_t pos) const {
    const char* const data = text_.data();
    const size_t size = text_.size();
#if defined(__SSE2__)
    // Signed compares: bytes >= 0x80 are negative and fall outside every range.
    const auto in_range = [](__m128i bytes, char low, char high) {
      return _mm_and_si128(_mm_cmpgt_epi8(bytes, _mm_set1_epi8(static_cast<char>(low - 1))),
                           _mm_cmplt_epi8(bytes, _mm_set1_epi8(static_cast<char>(high + 1))));
    };
    while (pos + 16 <= size) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
      const __m128i word = _mm_or_si128(_mm_or_si128(in_range(bytes, 'a', 'z'), in_range(bytes, 'A', 'Z')),
                                        _mm_or_si128(in_range(bytes, '0', '9'), _mm_cmpeq_epi8(bytes, _mm_set1_epi8('_'))));
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(word));
      if (mask != 0xFFFF) return pos + static_cast<unsigned>(__builtin_ctz(~mask));
      pos += 16;
    }
#endif
    while (pos < size && continues_identifier(data[pos])) ++pos;
    return pos;
  }

  // field: name (':' value | message | message_list) separator?
  uint32_t parse_field(bool top_level, size_t depth) {
    Node node;
    node.kind = NodeKind::Field;
    ByteRange name;
    if (!parse_identifier(name)) return kNone;  // `[ext]` names: declined
    node.range.start = name.start;
    node.aux = name.end;
    const uint32_t index = add(node);
    skip_extras(false);
    bool has_colon = false;
    if (peek() == ':') {
      has_colon = true;
      ++pos_;
      line_start_ = false;
      skip_extras(false);
    }
    const char c = peek();
    uint32_t value = kNone;
    if (c == '{' || c == '<') {
      value = parse_message(depth + 1);
    } else if (c == '[') {
      value = parse_list(has_colon, depth + 1);
    } else if (has_colon) {
      value = parse_scalar(top_level);
    }
    if (value == kNone) return kNone;
    Node& field = tree_.nodes[index];
    field.has_colon = has_colon;
    field.first_child = value;
    field.range.end = tree_.nodes[value].range.end;
    skip_extras(top_level);
    if (peek() == ',' || peek() == ';') {
      ++pos_;
      line_start_ = false;
      tree_.nodes[index].range.end = static_cast<uint32_t>(pos_);
    }
    return index;
  }

  uint32_t parse_message(size_t depth) {
    if (depth > kMaxFastNesting) return kNone;
    const char open = peek();
    const char close = open == '{' ? '}' : '>';
    Node node;
    node.kind = NodeKind::Message;
    node.range.start = static_cast<uint32_t>(pos_);
    const uint32_t index = add(node);
    ++pos_;
    line_start_ = false;
    uint32_t last = kNone;
    while (true) {
      skip_extras(false);
      if (peek() == close) break;
      const uint32_t field = parse_field(false, depth);
      if (field == kNone) return kNone;
      append_child(index, last, field);
    }
    ++pos_;
    line_start_ = false;
    tree_.nodes[index].range.end = static_cast<uint32_t>(pos_);
    return index;
  }

  // '[' ']' and '[' messages ']' are message lists; '[' scalars ']' (after
  // ':' only) a scalar list.
  uint32_t parse_list(bool has_colon, size_t depth) {
    if (depth > kMaxFastNesting) return kNone;
    Node node;
    node.range.start = static_cast<uint32_t>(pos_);
    ++pos_;
    line_start_ = false;
    skip_extras(false);
    const char first = peek();
    const bool messages = first == ']' || first == '{' || first == '<';
    if (!messages && !has_colon) return kNone;
    node.kind = messages ? NodeKind::MessageList : NodeKind::ScalarList;
    const uint32_t index = add(node);
    uint32_t last = kNone;
    if (first != ']') {
      while (true) {
        uint32_t element = kNone;
        if (messages) {
          if (peek() != '{' && peek() != '<') return kNone;
          element = parse_message(depth + 1);
        } else {
          element = parse_scalar(false);
        }
        if (element == kNone) return kNone;
        append_child(index, last, element);
        skip_extras(false);
        if (peek() == ']') break;
        if (peek() != ',') return kNone;
        ++pos_;
        line_start_ = false;
        skip_extras(false);
      }
    }
    ++pos_;  // ']'
    line_start_ = false;
    tree_.nodes[index].range.end = static_cast<uint32_t>(pos_);
    return index;
  }

  uint32_t parse_scalar(bool top_level) {
    Node node;
    node.kind = NodeKind::Scalar;
    node.range.start = static_cast<uint32_t>(pos_);
    const char c = peek();
    if (c == '"' || c == '\'') {
      node.scalar_kind = ScalarSyntax::Kind::String;
      if (!parse_string()) return kNone;
      node.range.end = static_cast<uint32_t>(pos_);
      // Adjacent strings concatenate; a header in between ends the field.
      while (true) {
        const size_t before = pos_;
        const bool line_start = line_start_;
        skip_extras(top_level);
        if (peek() != '"' && peek() != '\'') {
          pos_ = before;
          line_start_ = line_start;
          break;
        }
        if (!parse_string()) return kNone;
        node.range.end = static_cast<uint32_t>(pos_);
      }
      return add(node);
    }
    if (c == '-') {
      ++pos_;
      line_start_ = false;
      skip_extras(false);
      node.negative = true;
      if (is_letter(peek())) {
        node.scalar_kind = ScalarSyntax::Kind::SignedIdentifier;
        ByteRange word;
        parse_identifier(word);
        node.aux = word.start;
        node.range.end = word.end;
        return add(node);
      }
      if (!is_digit(peek()) && peek() != '.') return kNone;
    }
    if (is_digit(peek()) || peek() == '.') {
      bool is_float = false;
      const size_t start = pos_;
      if (!scan_number(is_float)) return kNone;
      node.scalar_kind = is_float ? ScalarSyntax::Kind::Float : ScalarSyntax::Kind::Integer;
      node.aux = static_cast<uint32_t>(start);
      node.range.end = static_cast<uint32_t>(pos_);
      line_start_ = false;
      return add(node);
    }
    if (c == '-') return kNone;
    if (is_letter(c)) {
      node.scalar_kind = ScalarSyntax::Kind::Identifier;
      parse_identifier(node.range);
      return add(node);
    }
    return kNone;
  }

  size_t consume_digits() {
    const size_t start = pos_;
    while (is_digit(peek())) ++pos_;
    return pos_ - start;
  }

  // scanner.c scan_number (protobuf's Tokenizer::ConsumeNumber).
  bool scan_number(bool& is_float) {
    is_float = false;
    bool fraction = false;
    if (peek() == '.') {
      ++pos_;
      if (consume_digits() == 0) return false;
      is_float = true;
      if (peek() == 'e' || peek() == 'E') {
        ++pos_;
        if (peek() == '+' || peek() == '-') ++pos_;
        if (consume_digits() == 0) return false;
      }
      if (peek() == 'f' || peek() == 'F') ++pos_;
    } else if (peek() == '0') {
      ++pos_;
      if (peek() == 'x' || peek() == 'X') {
        ++pos_;
        if (!is_hex_digit(peek())) return false;
        while (is_hex_digit(peek())) ++pos_;
        if (peek() == '.') return false;
      } else if (is_digit(peek())) {
        while (is_octal_digit(peek())) ++pos_;
        if (is_digit(peek()) || peek() == '.') return false;
      } else {
        fraction = true;
      }
    } else {
      consume_digits();
      fraction = true;
    }
    if (fraction) {
      if (peek() == '.') {
        ++pos_;
        is_float = true;
        consume_digits();
      }
      if (peek() == 'e' || peek() == 'E') {
        ++pos_;
        is_float = true;
        if (peek() == '+' || peek() == '-') ++pos_;
        if (consume_digits() == 0) return false;
      }
      if (peek() == 'f' || peek() == 'F') {
        ++pos_;
        is_float = true;
      }
    }
    const char next = peek();
    return !(is_letter(next) || is_digit(next) || next == '.');
  }

  // One quoted string with the grammar's escape sequences only.
  bool parse_string() {
    const char quote = peek();
    const char* const data = text_.data();
    const size_t size = text_.size();
    size_t pos = pos_ + 1;  // (a local: a char read may alias the member)
    line_start_ = false;
    while (true) {
#if defined(__SSE2__)
      // Plain bytes 16 at a time, up to the next quote, backslash or newline.
      while (pos + 16 <= size) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
        const __m128i stops = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(quote)), _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
            _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\n')));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stops));
        if (mask != 0) {
          pos += static_cast<unsigned>(__builtin_ctz(mask));
          break;
        }
        pos += 16;
      }
#endif
      if (pos >= size) {
        pos_ = pos;
        return false;
      }
      const char c = data[pos];
      if (c == quote) {
        pos_ = pos + 1;
        return true;
      }
      if (c == '\n') {
        pos_ = pos;
        return false;
      }
      if (c != '\\') {
        ++pos;
        continue;
      }
      const size_t length = escape_length(pos);
      if (length == 0) {
        pos_ = pos;
        return false;
      }
      pos += length;
    }
  }

  size_t hex_run(size_t from, size_t max) const {
    size_t n = 0;
    while (n < max && is_hex_digit(at(from + n))) ++n;
    return n;
  }

  // Length of the escape sequence at `p` (a backslash), or 0 if the grammar has none.
  size_t escape_length(size_t p) const {
    const char c = at(p + 1);
    switch (c) {
      case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v':
      case '?': case '\\': case '\'': case '"': return 2;
      case 'x': {
        const size_t n = hex_run(p + 2, 2);
        return n == 0 ? 0 : 2 + n;
      }
      case 'u': return hex_run(p + 2, 4) == 4 ? 6 : 0;
      case 'U':
        if (at(p + 2) == '0' && at(p + 3) == '0' && at(p + 4) == '0' && hex_run(p + 5, 5) == 5) return 10;
        if (at(p + 2) == '0' && at(p + 3) == '0' && at(p + 4) == '1' && at(p + 5) == '0' && hex_run(p + 6, 4) == 4)
          return 10;
        return 0;
      default:
        if (is_octal_digit(c)) {
          size_t n = 1;
          while (n < 3 && is_octal_digit(at(p + 1 + n))) ++n;
          return 1 + n;
        }
        return 0;
    }
  }

  std::string_view text_;
  Part& tree_;
  size_t pos_ = 0;
  size_t stop_ = std::string_view::npos;
  // scanner.c: the first token starts a line (a part starts after a newline).
  bool line_start_ = true;
};

// --- binding ------------------------------------------------------------------

using rules::quoted;
using rules::type_label;

class FastBinder {
 public:
  FastBinder(std::string_view text, const Part& part) : nodes_(part.nodes), text_(text), part_(part) {}

  // The number of the part's top-level fields.
  size_t top_level_count() const { return part_.top_level_count; }

  // Binds the part's top-level fields into `fields` (top_level_count() of
  // them, in place in the root's vector: the parts fill their own ranges
  // side by side) and judges the required fields of the elements of
  // repeated top-level fields as it goes (IncrementalBinder's split); the
  // caller runs the whole-message rules of the root once all parts are in.
  bool bind_top_level(const pb::Descriptor* root_type, Field* fields) {
    const bool typed = root_type != nullptr;
    // Judged in batches: a block is still in the cache, and one call per
    // block would cost a few allocations each.
    constexpr size_t kBatch = 256;
    std::vector<const Message*> blocks;
    Field* next = fields;
    for (uint32_t i = part_.first_top_level; i != kNone; i = node(i).next_sibling) {
      may_miss_required_ = false;
      Field& field = *next++;
      if (!bind_field_into(root_type, field, node(i), typed, 0)) return false;
      if (!typed || field.descriptor == nullptr || !field.descriptor->is_repeated() ||
          field.descriptor->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || !may_miss_required_)
        continue;
      for (const Message& element : field.messages) blocks.push_back(&element);
      if (blocks.size() >= kBatch) {
        rules::check_required_blocks(blocks, never_broken, required_);
        blocks.clear();
      }
    }
    if (!blocks.empty()) rules::check_required_blocks(blocks, never_broken, required_);
    return true;
  }

  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }
  // missing-required of the elements of repeated top-level fields.
  std::vector<Diagnostic>& required() { return required_; }

 private:
  const Node& node(uint32_t index) const { return nodes_[index]; }
  size_t child_count(const Node& parent) const {
    size_t count = 0;
    for (uint32_t i = parent.first_child; i != kNone; i = node(i).next_sibling) ++count;
    return count;
  }
  std::string_view text_of(ByteRange range) const { return text_.substr(range.start, range.end - range.start); }

  void error(ByteRange range, const char* code, std::string message) {
    diagnostics_.push_back({range, Severity::Error, code, std::move(message), {}});
  }

  // The fields of one message (siblings from `first`), typed or not.
  bool bind_fields(Message& message, uint32_t first, bool typed, size_t depth) {
    if (!bind_field_list(message, first, typed, depth)) return false;
    if (typed) {
      const bool overwrites = may_overwrite(message);
      if (overwrites) rules::check_overwrites(message, diagnostics_);
      // A block whose required fields are all there, with no singular field
      // given twice (blocks that merge) and no two members of a oneof (one
      // clears the other), cannot miss a required field.
      if (overwrites || lacks_required_field(message)) may_miss_required_ = true;
    }
    return true;
  }

  bool lacks_required_field(const Message& message) {
    for (const FieldDescriptor* required : required_fields(message.descriptor)) {
      const auto set = [required](const Field& field) { return field.descriptor == required; };
      if (std::none_of(message.fields.begin(), message.fields.end(), set)) return true;
    }
    return false;
  }

  // The required fields of a message type (a schema has few types: a linear cache).
  const std::vector<const FieldDescriptor*>& required_fields(const pb::Descriptor* type) {
    for (const auto& [cached_type, fields] : required_cache_) {
      if (cached_type == type) return fields;
    }
    std::vector<const FieldDescriptor*> fields;
    for (int i = 0; i < type->field_count(); ++i) {
      if (type->field(i)->is_required()) fields.push_back(type->field(i));
    }
    required_cache_.emplace_back(type, std::move(fields));
    return required_cache_.back().second;
  }

  // False when rules::check_overwrites() has nothing to report: no singular
  // field set twice, no two fields of one oneof, no Any value. Cheaper than
  // its maps for the small blocks (two or three fields) that make up most
  // of a big config.
  static bool may_overwrite(const Message& message) {
    const std::vector<Field>& fields = message.fields;
    if (fields.size() > 16) return true;
    for (size_t i = 0; i < fields.size(); ++i) {
      const FieldDescriptor* set = fields[i].descriptor;
      if (fields[i].any_type != nullptr) return true;
      if (set == nullptr) continue;
      const pb::OneofDescriptor* oneof = set->containing_oneof();
      const bool repeated = set->is_repeated();
      if (oneof == nullptr && repeated) continue;
      for (size_t j = i + 1; j < fields.size(); ++j) {
        const FieldDescriptor* other = fields[j].descriptor;
        if (other == nullptr) continue;
        if (other == set && !repeated) return true;
        if (oneof != nullptr && other->containing_oneof() == oneof) return true;
      }
    }
    return false;
  }

  bool bind_field_list(Message& message, uint32_t first, bool typed, size_t depth) {
    if (depth > kMaxFastNesting) return false;
    size_t count = 0;
    for (uint32_t i = first; i != kNone; i = node(i).next_sibling) ++count;
    message.fields.reserve(message.fields.size() + count);
    for (uint32_t i = first; i != kNone; i = node(i).next_sibling) {
      if (!bind_field(message, node(i), typed, depth)) return false;
    }
    return true;
  }

  bool bind_field(Message& message, const Node& syntax, bool typed, size_t depth) {
    message.fields.emplace_back();
    return bind_field_into(message.descriptor, message.fields.back(), syntax, typed, depth);
  }

  // Binds one field of a message of type `parent` into `field`.
  bool bind_field_into(const pb::Descriptor* parent, Field& field, const Node& syntax, bool typed, size_t depth) {
    field.range = syntax.range;
    field.name_range = syntax.name();
    field.has_colon = syntax.has_colon;
    field.name.append(text_.data() + field.name_range.start, field.name_range.end - field.name_range.start);  // (empty: append is the shortest path)
    const Node& value = node(syntax.first_child);
    if (!typed) return bind_untyped_value(field, value, depth);

    const pb::Descriptor* descriptor = parent;
    const FieldDescriptor* found = find_field(descriptor, field.name);
    if (found == nullptr) {
      if (descriptor->IsReservedName(field.name)) return false;  // libprotobuf's skipping: not covered
      error(field.name_range, "unknown-field", rules::unknown_field_message(descriptor, field.name));
      return bind_untyped_value(field, value, depth);
    }
    field.descriptor = found;
    if (!bind_typed_value(field, syntax, value, depth)) return false;
    if (found->options().deprecated()) {
      diagnostics_.push_back({field.name_range, Severity::Warning, "deprecated-field",
                              "field " + quoted(field.name) + " is deprecated", {}});
    }
    return true;
  }

  // a == b, inline: the names of one message often have the same length
  // ("clip_max", "clip_min"), where == calls memcmp (a visible share of
  // binding 1.5 million fields). Names of 8 to 16 bytes are two loads each.
  static bool same_name(const std::string& a, const std::string& b) {
    const size_t size = a.size();
    if (size != b.size()) return false;
    if (size < 8) return a.compare(b) == 0;
    uint64_t a_word, b_word;
    std::memcpy(&a_word, a.data(), 8);
    std::memcpy(&b_word, b.data(), 8);
    if (a_word != b_word) return false;
    std::memcpy(&a_word, a.data() + size - 8, 8);
    std::memcpy(&b_word, b.data() + size - 8, 8);
    if (a_word != b_word) return false;
    return size <= 16 || std::memcmp(a.data() + 8, b.data() + 8, size - 16) == 0;
  }

  // rules::find_field, with a scan of the few fields of a small message
  // first (cheaper than the pool's hash lookup).
  static const FieldDescriptor* find_field(const pb::Descriptor* descriptor, const std::string& name) {
    if (descriptor->field_count() <= 24) {
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const FieldDescriptor* field = descriptor->field(i);
        if (same_name(field->name(), name)) {
          return field->type() == FieldDescriptor::TYPE_GROUP ? rules::find_field(descriptor, name) : field;
        }
      }
    }
    return rules::find_field(descriptor, name);
  }

  bool add_message(Field& field, const Node& syntax, const pb::Descriptor* descriptor, size_t depth) {
    field.messages.emplace_back();
    Message& child = field.messages.back();
    child.descriptor = descriptor;
    child.range = syntax.range;
    child.open_range = syntax.open_bracket();
    return bind_fields(child, syntax.first_child, descriptor != nullptr, depth + 1);
  }

  bool bind_untyped_value(Field& field, const Node& value, size_t depth) {
    switch (value.kind) {
      case NodeKind::Message: return add_message(field, value, nullptr, depth);
      case NodeKind::MessageList:
        field.messages.reserve(child_count(value));
        for (uint32_t i = value.first_child; i != kNone; i = node(i).next_sibling) {
          if (!add_message(field, node(i), nullptr, depth)) return false;
        }
        return true;
      case NodeKind::ScalarList:
        field.scalars.reserve(child_count(value));
        for (uint32_t i = value.first_child; i != kNone; i = node(i).next_sibling) {
          untyped_scalar(field.scalars.emplace_back(), node(i));
        }
        return true;
      case NodeKind::Scalar: untyped_scalar(field.scalars.emplace_back(), value); return true;
      case NodeKind::Field: return false;
    }
    return false;
  }

  bool bind_typed_value(Field& field, const Node& syntax, const Node& value, size_t depth) {
    const FieldDescriptor* descriptor = field.descriptor;
    const bool repeated = descriptor->is_repeated();
    auto name = [&] { return quoted(field.name); };

    if (descriptor->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const pb::Descriptor* type = descriptor->message_type();
      if (value.kind == NodeKind::Message) return add_message(field, value, type, depth);
      if (value.kind == NodeKind::MessageList) {
        if (!repeated) {
          error(value.range, "not-repeated",
                "field " + name() + " is not repeated: write one block " + field.name + " { ... }, not a list");
        }
        field.messages.reserve(child_count(value));
        for (uint32_t i = value.first_child; i != kNone; i = node(i).next_sibling) {
          if (!add_message(field, node(i), type, depth)) return false;
        }
        return true;
      }
      error(value.range, "type-mismatch",
            "field " + name() + " is " + type_label(descriptor) + ": write " + field.name + " { ... }");
      return bind_untyped_value(field, value, depth);
    }

    // A scalar field.
    if (value.kind == NodeKind::Message) {
      error(value.range, "type-mismatch", "field " + name() + " is " + type_label(descriptor) + ", not a message");
      return bind_untyped_value(field, value, depth);
    }
    if (value.kind == NodeKind::MessageList) {
      if (value.first_child != kNone) {
        error(value.range, "type-mismatch",
              "field " + name() + " is " + type_label(descriptor) + ", not a list of messages");
        return bind_untyped_value(field, value, depth);
      }
      if (!syntax.has_colon) {
        error(field.name_range, "missing-colon",
              "expected ':' after " + name() + " (" + type_label(descriptor) + "): write " + field.name + ": []");
      } else if (!repeated) {
        error(value.range, "not-repeated", "field " + name() + " is not repeated: a list is not allowed");
      }
      return true;
    }
    if (!syntax.has_colon) return false;  // not reachable: the grammar needs ':' before a scalar
    if (value.kind == NodeKind::ScalarList) {
      if (!repeated) error(value.range, "not-repeated", "field " + name() + " is not repeated: give one value, not a list");
      field.scalars.reserve(child_count(value));
      for (uint32_t i = value.first_child; i != kNone; i = node(i).next_sibling) {
        typed_scalar(field.scalars.emplace_back(), descriptor, node(i), repeated);
      }
      return true;
    }
    typed_scalar(field.scalars.emplace_back(), descriptor, value, true);
    return true;
  }

  ScalarSyntax scalar_syntax(const Node& value) const {
    ScalarSyntax syntax;
    syntax.kind = value.scalar_kind;
    syntax.range = value.range;
    syntax.text = text_of(value.range);
    if (value.scalar_kind == ScalarSyntax::Kind::Integer || value.scalar_kind == ScalarSyntax::Kind::Float) {
      syntax.negative = value.negative;
      syntax.literal = text_of(value.tail());
    } else if (value.scalar_kind == ScalarSyntax::Kind::SignedIdentifier) {
      syntax.word = text_of(value.tail());
    }
    return syntax;
  }

  // The strings of a String value (one, or adjacent ones), decoded as the
  // protobuf tokenizer does. Only the grammar's escapes reach here, and all
  // of them are valid for protobuf.
  static bool decode_strings(std::string_view text, std::string& out) {
    size_t p = 0;
    while (p < text.size()) {
      const char quote = text[p];
      if (quote != '"' && quote != '\'') {
        if (text[p] == '#') {
          const size_t end = text.find('\n', p);
          p = end == std::string_view::npos ? text.size() : end;
        } else {
          ++p;
        }
        continue;
      }
      size_t end = p + 1;
      bool escaped = false;
      while (end < text.size() && text[end] != quote) {
        if (text[end] == '\\') {
          escaped = true;
          ++end;  // the escaped character cannot be a newline; skipping it keeps \" inside
        }
        ++end;
      }
      const std::string_view part = text.substr(p, end + 1 - p);
      if (escaped) {
        pb::io::Tokenizer::ParseStringAppend(std::string(part), &out);
      } else {
        out.append(part.substr(1, part.size() - 2));
      }
      p = end + 1;
    }
    return true;
  }

  // Into `scalar`, in place in its field's vector.
  void untyped_scalar(ScalarValue& scalar, const Node& value) {
    const ScalarSyntax syntax = scalar_syntax(value);
    rules::untyped_scalar_into(scalar, syntax,
                               [&](std::string& out, bool) { return decode_strings(syntax.text, out); });
  }

  void typed_scalar(ScalarValue& scalar, const FieldDescriptor* field, const Node& value, bool report_errors) {
    const ScalarSyntax syntax = scalar_syntax(value);
    rules::typed_scalar_into(
        scalar, field, syntax, report_errors,
        [&](std::string& out, bool) { return decode_strings(syntax.text, out); }, diagnostics_);
  }

  static bool never_broken_block(const Message*) { return false; }  // no syntax errors on this path
  inline static const std::function<bool(const Message*)> never_broken = never_broken_block;

  const std::vector<Node>& nodes_;
  std::string_view text_;
  const Part& part_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<Diagnostic> required_;
  // Whether a typed block bound since the top-level field began might miss
  // a required field (then its blocks are judged by rules::check_required_blocks).
  bool may_miss_required_ = false;
  std::vector<std::pair<const pb::Descriptor*, std::vector<const FieldDescriptor*>>> required_cache_;
};

// Where a second thread may start parsing: the start of a line near the
// middle that begins with a letter (most likely a top-level field name).
// Only a guess: the first thread confirms it by reaching exactly this
// place between two top-level items.
size_t split_point(std::string_view text) {
  for (size_t at = text.find('\n', text.size() / 2); at != std::string_view::npos; at = text.find('\n', at + 1)) {
    if (at + 1 < text.size() && is_letter(text[at + 1])) return at + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<FastSyntax> parse_fast(std::string_view text, const FastOptions& options) {
  if (text.size() >= UINT32_MAX / 2) return std::nullopt;
  FastSyntax syntax;
  FastSyntax::Tree& tree = *syntax.tree_;
  tree.text = text;
  const size_t split = text.size() >= options.parallel_min_bytes ? split_point(text) : std::string_view::npos;
  const bool parallel = split != std::string_view::npos;
  tree.parts.resize(parallel ? 2 : 1);
  // Each thread also checks the bytes of its half (the split is right after
  // a newline: no UTF-8 sequence spans it).
  bool first_acceptable = true;
  bool second_acceptable = true;
  ParseEnd first_end = ParseEnd::Declined;
  ParseEnd second_end = ParseEnd::Declined;
  run_both(
      parallel,
      [&] {
        first_acceptable = bytes_acceptable(text.substr(0, parallel ? split : text.size()));
        if (first_acceptable) first_end = Parser(text, tree.parts[0], 0, split).parse();
      },
      [&] {
        if (!parallel) return;
        second_acceptable = bytes_acceptable(text.substr(split));
        if (second_acceptable) second_end = Parser(text, tree.parts[1], split, std::string_view::npos).parse();
      });
  if (!first_acceptable || !second_acceptable || first_end == ParseEnd::Declined) return std::nullopt;
  if (first_end == ParseEnd::Stop && second_end != ParseEnd::End) return std::nullopt;
  if (parallel && first_end == ParseEnd::End) tree.parts.pop_back();  // the guess was inside an item: unused
  std::unordered_set<std::string_view> seen;
  for (const Part& part : tree.parts) {
    tree.headers.insert(tree.headers.end(), part.headers.begin(), part.headers.end());
    for (std::string_view name : part.top_level_fields) {
      if (seen.insert(name).second) tree.top_level_fields.push_back(name);
    }
  }
  return syntax;
}

std::optional<BoundDocument> bind_fast(const FastSyntax& syntax, const google::protobuf::Descriptor* root_type) {
  const FastSyntax::Tree& tree = *syntax.tree_;
  BoundDocument bound;
  bound.root.descriptor = root_type;
  bound.root.range = {0, static_cast<uint32_t>(tree.text.size())};
  bound.root.open_range = {0, 0};
  std::vector<FastBinder> binders;
  for (const Part& part : tree.parts) binders.emplace_back(tree.text, part);
  const size_t first_count = binders[0].top_level_count();
  bound.root.fields.resize(first_count + (binders.size() > 1 ? binders[1].top_level_count() : 0));
  bool first_ok = true;
  bool second_ok = true;
  run_both(
      binders.size() > 1, [&] { first_ok = binders[0].bind_top_level(root_type, bound.root.fields.data()); },
      [&] {
        second_ok = binders.size() < 2 || binders[1].bind_top_level(root_type, bound.root.fields.data() + first_count);
      });
  if (!first_ok || !second_ok) return std::nullopt;
  std::vector<Diagnostic> diagnostics = std::move(binders[0].diagnostics());
  if (binders.size() > 1) {
    std::vector<Diagnostic>& more = binders[1].diagnostics();
    diagnostics.insert(diagnostics.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  if (root_type != nullptr) {
    // The root and its merged singular blocks; the elements of repeated
    // top-level fields were judged by the binders. The root's own verdict
    // first, as check_required() of the whole tree would give it. (The two
    // passes over the root are independent: side by side when it is big.)
    std::vector<Diagnostic> root_required;
    run_both(
        binders.size() > 1, [&] { rules::check_overwrites(bound.root, diagnostics); },
        [&] {
          rules::check_required_groups({{&bound.root}}, {&bound.root, rules::RootChildren::SingularOnly},
                                       [](const Message*) { return false; }, root_required);
        });
    std::vector<Diagnostic> below_root;
    for (Diagnostic& diagnostic : root_required)
      (diagnostic.range == bound.root.open_range ? diagnostics : below_root).push_back(std::move(diagnostic));
    for (FastBinder& binder : binders)
      diagnostics.insert(diagnostics.end(), std::make_move_iterator(binder.required().begin()),
                         std::make_move_iterator(binder.required().end()));
    diagnostics.insert(diagnostics.end(), std::make_move_iterator(below_root.begin()),
                       std::make_move_iterator(below_root.end()));
  }
  sort_by_start(diagnostics);
  bound.diagnostics = std::move(diagnostics);
  return bound;
}

std::optional<BoundDocument> bind_fast(FastSyntax&& syntax, const google::protobuf::Descriptor* root_type) {
  std::optional<BoundDocument> bound = bind_fast(static_cast<const FastSyntax&>(syntax), root_type);
  syntax.tree_->parts.clear();
  syntax.tree_->parts.shrink_to_fit();
  return bound;
}

}  // namespace amct::model
