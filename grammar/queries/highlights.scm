; Highlights for the protobuf text format (nvim-treesitter capture names).
;
; Every node gets at most one capture: editors disagree on whether the first
; or the last matching pattern wins, so the patterns below exclude each other
; (by position in the tree or by predicates) instead of relying on order.

(comment) @comment

; Schema header comments: `# proto-file: path`, `# soc: Ascend310P3`, ...
(header
  key: (header_key) @keyword.directive)

(header
  value: (header_value) @string.special)

; Field names
(field_name
  (identifier) @property)

(extension_name
  (type_name) @type)

(any_name
  (domain) @string.special.url)

(any_name
  (type_name) @type)

; Scalars
(string) @string

(escape_sequence) @string.escape

(integer) @number

(float) @number.float

(signed_identifier
  "-" @operator)

; A bare identifier value is a bool for bool fields, inf/nan for float fields
; and an enum value otherwise; without the schema only its spelling tells.
(field
  value: (identifier) @boolean
  (#match? @boolean "^(true|True|t|false|False|f)$"))

(scalar_list
  (identifier) @boolean
  (#match? @boolean "^(true|True|t|false|False|f)$"))

(field
  value: (identifier) @constant.builtin
  (#match? @constant.builtin "^([iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$"))

(scalar_list
  (identifier) @constant.builtin
  (#match? @constant.builtin "^([iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$"))

(signed_identifier
  (identifier) @constant.builtin
  (#match? @constant.builtin "^([iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$"))

(field
  value: (identifier) @constant
  (#not-match? @constant "^(true|True|t|false|False|f|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$"))

(scalar_list
  (identifier) @constant
  (#not-match? @constant "^(true|True|t|false|False|f|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$"))

(signed_identifier
  (identifier) @constant
  (#not-match? @constant "^([iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$"))

; Punctuation
[
  "{"
  "}"
  "<"
  ">"
  "["
  "]"
] @punctuation.bracket

[
  ":"
  ","
  ";"
  "."
  "/"
] @punctuation.delimiter
