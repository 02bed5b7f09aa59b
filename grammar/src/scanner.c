// External scanner for the textproto grammar.
//
// Why external: protobuf's tokenizer treats a number as one atomic token and
// rejects a letter glued to it ("10bar": "Need space between number and
// identifier"), a second '.' ("1.5.5"), octal literals with 8 or 9 and a bare
// "0x". A regular lexer would split such text into valid tokens. Header values
// must end at the end of their line, which the internal lexer cannot express
// because newlines are skipped as whitespace before every token.
#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <string.h>

enum TokenType {
  INTEGER_LITERAL,
  FLOAT_LITERAL,
  HEADER_KEY,
  HEADER_VALUE,
  ERROR_SENTINEL,
};

void *tree_sitter_textproto_external_scanner_create(void) { return NULL; }
void tree_sitter_textproto_external_scanner_destroy(void *payload) { (void)payload; }
unsigned tree_sitter_textproto_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}
void tree_sitter_textproto_external_scanner_deserialize(void *payload, const char *buffer,
                                                        unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

static bool is_digit(int32_t c) { return c >= '0' && c <= '9'; }
static bool is_octal_digit(int32_t c) { return c >= '0' && c <= '7'; }
static bool is_hex_digit(int32_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_letter(int32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static void advance(TSLexer *lexer) { lexer->advance(lexer, false); }

static bool consume_digits(TSLexer *lexer) {
  bool any = false;
  while (is_digit(lexer->lookahead)) {
    advance(lexer);
    any = true;
  }
  return any;
}

// Mirrors google::protobuf::io::Tokenizer::ConsumeNumber with
// allow_f_after_float and require_space_after_number, as TextFormat sets them.
static bool scan_number(TSLexer *lexer, const bool *valid_symbols) {
  bool is_float = false;
  if (lexer->lookahead == '.') {
    advance(lexer);
    if (!consume_digits(lexer)) return false;
    is_float = true;
    if (lexer->lookahead == 'e' || lexer->lookahead == 'E') {
      advance(lexer);
      if (lexer->lookahead == '+' || lexer->lookahead == '-') advance(lexer);
      if (!consume_digits(lexer)) return false;
    }
    if (lexer->lookahead == 'f' || lexer->lookahead == 'F') advance(lexer);
  } else if (lexer->lookahead == '0') {
    advance(lexer);
    if (lexer->lookahead == 'x' || lexer->lookahead == 'X') {
      advance(lexer);
      if (!is_hex_digit(lexer->lookahead)) return false;
      while (is_hex_digit(lexer->lookahead)) advance(lexer);
      if (lexer->lookahead == '.') return false;
    } else if (is_digit(lexer->lookahead)) {
      while (is_octal_digit(lexer->lookahead)) advance(lexer);
      if (is_digit(lexer->lookahead) || lexer->lookahead == '.') return false;
    } else {
      goto fraction;
    }
  } else if (is_digit(lexer->lookahead)) {
    consume_digits(lexer);
  fraction:
    if (lexer->lookahead == '.') {
      advance(lexer);
      is_float = true;
      consume_digits(lexer);
    }
    if (lexer->lookahead == 'e' || lexer->lookahead == 'E') {
      advance(lexer);
      is_float = true;
      if (lexer->lookahead == '+' || lexer->lookahead == '-') advance(lexer);
      if (!consume_digits(lexer)) return false;
    }
    if (lexer->lookahead == 'f' || lexer->lookahead == 'F') {
      advance(lexer);
      is_float = true;
    }
  } else {
    return false;
  }
  if (is_letter(lexer->lookahead) || is_digit(lexer->lookahead)) return false;
  if (lexer->lookahead == '.') return false;
  lexer->mark_end(lexer);
  if (is_float) {
    if (!valid_symbols[FLOAT_LITERAL]) return false;
    lexer->result_symbol = FLOAT_LITERAL;
  } else {
    if (!valid_symbols[INTEGER_LITERAL]) return false;
    lexer->result_symbol = INTEGER_LITERAL;
  }
  return true;
}

static const char *const HEADER_KEYS[] = {"proto-file", "proto-message", "proto-import", "soc",
                                          "amct-api"};

static bool scan_header_key(TSLexer *lexer) {
  advance(lexer);  // '#'
  while (lexer->lookahead == ' ' || lexer->lookahead == '\t') advance(lexer);
  char word[16];
  unsigned length = 0;
  while ((lexer->lookahead >= 'a' && lexer->lookahead <= 'z') || lexer->lookahead == '-') {
    if (length + 1 >= sizeof word) return false;
    word[length++] = (char)lexer->lookahead;
    advance(lexer);
  }
  word[length] = '\0';
  if (lexer->lookahead != ':') return false;
  for (unsigned i = 0; i < sizeof HEADER_KEYS / sizeof HEADER_KEYS[0]; ++i) {
    if (strcmp(word, HEADER_KEYS[i]) == 0) {
      advance(lexer);
      lexer->mark_end(lexer);
      lexer->result_symbol = HEADER_KEY;
      return true;
    }
  }
  return false;
}

static bool scan_header_value(TSLexer *lexer) {
  while (lexer->lookahead == ' ' || lexer->lookahead == '\t') lexer->advance(lexer, true);
  bool any = false;
  while (lexer->lookahead != '\n' && lexer->lookahead != '\r' && !lexer->eof(lexer)) {
    advance(lexer);
    if (lexer->lookahead != ' ' && lexer->lookahead != '\t') {
      lexer->mark_end(lexer);
      any = true;
    }
  }
  if (!any) return false;
  lexer->result_symbol = HEADER_VALUE;
  return true;
}

bool tree_sitter_textproto_external_scanner_scan(void *payload, TSLexer *lexer,
                                                 const bool *valid_symbols) {
  (void)payload;
  bool error_recovery = valid_symbols[ERROR_SENTINEL];
  if (valid_symbols[HEADER_VALUE] && !error_recovery) {
    if (scan_header_value(lexer)) return true;
  }
  // A header is a comment that starts its line; `a: 1 # soc: x` is a comment.
  // No token includes a newline, so a header's line start is either a newline
  // skipped here or the start of the document. get_column() is not used: the
  // 0.20.7 runtime's hangs (`1}`) or crashes (`:'\n#`) in some parse states.
  bool at_line_start = lexer->is_at_included_range_start(lexer);
  while (lexer->lookahead == ' ' || lexer->lookahead == '\t' || lexer->lookahead == '\n' ||
         lexer->lookahead == '\r' || lexer->lookahead == '\f' || lexer->lookahead == '\v') {
    if (lexer->lookahead == '\n') at_line_start = true;
    lexer->advance(lexer, true);
  }
  if (lexer->lookahead == '#') {
    if (valid_symbols[HEADER_KEY] && !error_recovery && at_line_start) return scan_header_key(lexer);
    return false;
  }
  if (valid_symbols[INTEGER_LITERAL] || valid_symbols[FLOAT_LITERAL]) {
    if (is_digit(lexer->lookahead) || lexer->lookahead == '.') return scan_number(lexer, valid_symbols);
  }
  return false;
}
