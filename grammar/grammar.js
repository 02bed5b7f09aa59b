/**
 * Protocol Buffers text format, as defined by the Text Format Language
 * Specification (https://protobuf.dev/reference/protobuf/textformat-spec/),
 * plus header comments (`# proto-file:` …) that tools use to bind a schema.
 *
 * Numbers and header values come from the external scanner (src/scanner.c):
 * number tokens must be atomic (`10bar`, `2 . 0` are errors), which a
 * regular lexer that happily splits `10bar` into `10` `bar` cannot enforce.
 */

const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));

module.exports = grammar({
  name: 'textproto',

  extras: ($) => [/\s/, $.comment],

  externals: ($) => [
    $._integer_literal,
    $._float_literal,
    $.header_key,
    $.header_value,
    $._error_sentinel,
  ],

  // No `word` token: the grammar has no keywords, and tree-sitter 0.20.7
  // reuses a node starting with the word token in an incremental re-parse
  // only in the very parse state the node started in, which the parser never
  // is in (the token is read before the previous item is reduced): every
  // top-level field after an edit was lexed and parsed again.

  rules: {
    source_file: ($) => repeat(choice($.header, $.field)),

    // `# proto-file: path`, `# proto-message: pkg.Msg`, `# proto-import: path`,
    // `# soc: Ascend310P3`, `# amct-api: quant`.
    header: ($) => seq(field('key', $.header_key), optional(field('value', $.header_value))),

    comment: (_) => token(seq('#', /[^\n]*/)),

    field: ($) =>
      choice(
        seq(
          field('name', $.field_name),
          ':',
          field('value', choice($._scalar_value, $.scalar_list, $.message, $.message_list)),
          optional($._separator),
        ),
        seq(
          field('name', $.field_name),
          field('value', choice($.message, $.message_list)),
          optional($._separator),
        ),
      ),

    _separator: (_) => choice(',', ';'),

    field_name: ($) => choice($.identifier, $.extension_name, $.any_name),

    extension_name: ($) => seq('[', $.type_name, ']'),
    any_name: ($) => seq('[', $.domain, '/', $.type_name, ']'),
    type_name: ($) => seq($.identifier, repeat(seq('.', $.identifier))),
    domain: ($) => seq($.identifier, repeat(seq('.', $.identifier))),

    message: ($) =>
      choice(seq('{', repeat($.field), '}'), seq('<', repeat($.field), '>')),

    scalar_list: ($) => seq('[', commaSep1($._scalar_value), ']'),
    // `[]` is a message list: the only list that may follow a name without ':'.
    message_list: ($) => seq('[', optional(commaSep1($.message)), ']'),

    _scalar_value: ($) =>
      choice(
        $.string,
        $.concatenated_string,
        $.integer,
        $.float,
        $.identifier,
        $.signed_identifier,
      ),

    concatenated_string: ($) => seq($.string, repeat1($.string)),

    string: ($) =>
      choice(
        seq('"', repeat(choice($.string_content, $.escape_sequence)), token.immediate('"')),
        seq("'", repeat(choice(alias($._single_quoted_content, $.string_content), $.escape_sequence)), token.immediate("'")),
      ),
    // prec(1): inside a string, `#` starts content, not a comment.
    string_content: (_) => token.immediate(prec(1, /[^"\\\n]+/)),
    _single_quoted_content: (_) => token.immediate(prec(1, /[^'\\\n]+/)),
    escape_sequence: (_) =>
      token.immediate(
        seq(
          '\\',
          choice(
            /[abfnrtv?\\'"]/,
            /[0-7]{1,3}/,
            /x[0-9a-fA-F]{1,2}/,
            /u[0-9a-fA-F]{4}/,
            // The spec allows code points up to 0x10FFFF only.
            /U000[0-9a-fA-F]{5}/,
            /U0010[0-9a-fA-F]{4}/,
          ),
        ),
      ),

    integer: ($) => seq(optional('-'), $._integer_literal),
    float: ($) => seq(optional('-'), $._float_literal),
    signed_identifier: ($) => seq('-', $.identifier),

    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,
  },
});
