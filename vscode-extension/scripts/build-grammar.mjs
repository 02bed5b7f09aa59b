import fs from 'node:fs';
const r = String.raw;
const ident = r`[A-Za-z_][A-Za-z0-9_]*`;
const qualified = r`${ident}(?:\s*\.\s*${ident})*`;
// Start of the next field on the same line: a name followed by ':' '{' '<' '[',
// or an extension / Any name in brackets followed by one of those.
const nextField = r`\s*(?:${ident}\s*[:{<\[]|\[\s*${qualified}\s*(?:/\s*${qualified}\s*)?\]\s*[:{<\[])`;
// A schema header line ends a value left open on the line before (`a: 1` then `# soc: X`).
const headerLine = r`^[ \t]*#[ \t]*(?:proto-file|proto-message|proto-import|soc|amct-api):`;
const g = {
  $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
  name: 'Protocol Buffers text format',
  scopeName: 'source.textproto',
  comment: 'Agrees with grammar/queries/highlights.scm; tested by test/grammar (fixtures generated from the tree-sitter corpus).',
  patterns: [{ include: '#header' }, { include: '#fields' }],
  repository: {
    header: {
      comment: 'Schema headers: only at the top level, alone on their line (like the tree-sitter scanner).',
      match: r`^[ \t]*(#[ \t]*(?:proto-file|proto-message|proto-import|soc|amct-api):)[ \t]*(.*?)[ \t]*$`,
      captures: {
        1: { name: 'keyword.other.directive.textproto' },
        2: { name: 'string.unquoted.header-value.textproto' },
      },
    },
    comment: { match: '#.*$', name: 'comment.line.number-sign.textproto' },
    fields: {
      patterns: [
        { include: '#comment' },
        { include: '#field-name' },
        { include: '#value' },
        { include: '#message' },
        { include: '#message-list' },
        { include: '#separator' },
      ],
    },
    'field-name': {
      patterns: [
        { include: '#extension-name' },
        { match: ident, name: 'variable.other.property.textproto' },
      ],
    },
    'extension-name': {
      patterns: [
        {
          comment: 'Any name: [type.googleapis.com/pkg.Msg]',
          begin: r`\[(?=\s*${qualified}\s*/)`,
          beginCaptures: { 0: { name: 'punctuation.section.brackets.begin.textproto' } },
          end: r`\]`,
          endCaptures: { 0: { name: 'punctuation.section.brackets.end.textproto' } },
          patterns: [
            { include: '#comment' },
            { match: '/', name: 'punctuation.separator.slash.textproto' },
            { match: r`(?<=/)\s*${qualified}|${qualified}(?=\s*\])`, captures: { 0: { patterns: [{ include: '#type-name-parts' }] } } },
            { match: qualified, captures: { 0: { patterns: [{ include: '#domain-parts' }] } } },
          ],
        },
        {
          comment: 'Extension name: [pkg.ext]',
          begin: r`\[(?=\s*(?:${ident}|$|#))`,
          beginCaptures: { 0: { name: 'punctuation.section.brackets.begin.textproto' } },
          end: r`\]`,
          endCaptures: { 0: { name: 'punctuation.section.brackets.end.textproto' } },
          patterns: [{ include: '#comment' }, { include: '#type-name-parts' }],
        },
      ],
    },
    'type-name-parts': {
      patterns: [
        { match: ident, name: 'entity.name.type.textproto' },
        { match: r`\.`, name: 'punctuation.accessor.textproto' },
      ],
    },
    'domain-parts': {
      patterns: [
        { match: ident, name: 'markup.underline.link.textproto' },
        { match: r`\.`, name: 'punctuation.accessor.textproto' },
      ],
    },
    separator: {
      patterns: [
        { match: ',', name: 'punctuation.separator.comma.textproto' },
        { match: ';', name: 'punctuation.separator.semicolon.textproto' },
      ],
    },
    message: {
      patterns: [
        {
          begin: r`\{`,
          beginCaptures: { 0: { name: 'punctuation.section.braces.begin.textproto' } },
          end: r`\}`,
          endCaptures: { 0: { name: 'punctuation.section.braces.end.textproto' } },
          name: 'meta.message.textproto',
          patterns: [{ include: '#fields' }],
        },
        {
          begin: '<',
          beginCaptures: { 0: { name: 'punctuation.section.angle-brackets.begin.textproto' } },
          end: '>',
          endCaptures: { 0: { name: 'punctuation.section.angle-brackets.end.textproto' } },
          name: 'meta.message.textproto',
          patterns: [{ include: '#fields' }],
        },
      ],
    },
    'message-list': {
      comment: 'A list right after a field name (no colon) holds messages.',
      begin: r`\[`,
      beginCaptures: { 0: { name: 'punctuation.section.brackets.begin.textproto' } },
      end: r`\]`,
      endCaptures: { 0: { name: 'punctuation.section.brackets.end.textproto' } },
      patterns: [{ include: '#comment' }, { include: '#message' }, { include: '#separator' }],
    },
    value: {
      comment: 'From a colon to the end of its value: the value ends before a separator, a closing bracket or the next field name.',
      begin: ':',
      beginCaptures: { 0: { name: 'punctuation.separator.key-value.textproto' } },
      end: r`(?=[,;}>\]])|(?=${nextField})|(?=${headerLine})`,
      patterns: [
        { include: '#comment' },
        { include: '#message' },
        { include: '#list' },
        { include: '#scalar' },
      ],
    },
    list: {
      begin: r`\[`,
      beginCaptures: { 0: { name: 'punctuation.section.brackets.begin.textproto' } },
      end: r`\]`,
      endCaptures: { 0: { name: 'punctuation.section.brackets.end.textproto' } },
      patterns: [
        { include: '#comment' },
        { include: '#message' },
        { include: '#scalar' },
        { match: ',', name: 'punctuation.separator.comma.textproto' },
      ],
    },
    scalar: {
      patterns: [
        { include: '#string' },
        { include: '#number' },
        { include: '#identifier-value' },
      ],
    },
    string: {
      patterns: [
        {
          begin: '"',
          beginCaptures: { 0: { name: 'punctuation.definition.string.begin.textproto' } },
          end: r`"|(?=$)`,
          endCaptures: { 0: { name: 'punctuation.definition.string.end.textproto' } },
          name: 'string.quoted.double.textproto',
          patterns: [{ include: '#escape' }],
        },
        {
          begin: "'",
          beginCaptures: { 0: { name: 'punctuation.definition.string.begin.textproto' } },
          end: r`'|(?=$)`,
          endCaptures: { 0: { name: 'punctuation.definition.string.end.textproto' } },
          name: 'string.quoted.single.textproto',
          patterns: [{ include: '#escape' }],
        },
      ],
    },
    escape: {
      patterns: [
        {
          match: r`\\(?:[abfnrtv?\\'"]|[0-7]{1,3}|x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{4}|U000[0-9a-fA-F]{5}|U0010[0-9a-fA-F]{4})`,
          name: 'constant.character.escape.textproto',
        },
        { match: r`\\.?`, name: 'invalid.illegal.unknown-escape.textproto' },
      ],
    },
    number: {
      comment: 'Numbers are atomic: 10bar and 2 . 0 are not numbers.',
      patterns: [
        {
          match: r`(?:-\s*)?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?|[0-9]+[eE][+-]?[0-9]+[fF]?|(?:0|[1-9][0-9]*)[fF])(?![A-Za-z0-9_.])`,
          name: 'constant.numeric.float.textproto',
        },
        {
          match: r`(?:-\s*)?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?![A-Za-z0-9_.])`,
          name: 'constant.numeric.integer.textproto',
        },
        { match: r`-(?=\s*$)`, name: 'constant.numeric.textproto' },
      ],
    },
    'identifier-value': {
      patterns: [
        { match: r`(-)\s*`, captures: { 1: { name: 'keyword.operator.arithmetic.textproto' } } },
        { match: r`\b(?:true|True|t|false|False|f)\b`, name: 'constant.language.boolean.textproto' },
        { match: r`\b(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])\b`, name: 'constant.language.numeric.textproto' },
        { match: ident, name: 'constant.other.enum.textproto' },
      ],
    },
  },
};
fs.writeFileSync('syntaxes/textproto.tmLanguage.json', JSON.stringify(g, null, 2) + '\n');
fs.writeFileSync('syntaxes/amct-cfg.tmLanguage.json', JSON.stringify({
  $schema: g.$schema, name: 'AMCT config', scopeName: 'source.textproto.amct',
  comment: 'AMCT configs are protobuf text format: the textproto grammar under its own scope.',
  patterns: [{ include: 'source.textproto' }],
}, null, 2) + '\n');
