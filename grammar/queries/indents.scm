; Indentation (nvim-treesitter indent captures).
[
  (message)
  (scalar_list)
  (message_list)
] @indent.begin

(message
  [
    "}"
    ">"
  ] @indent.branch @indent.end)

(scalar_list
  "]" @indent.branch @indent.end)

(message_list
  "]" @indent.branch @indent.end)

[
  (comment)
  (ERROR)
] @indent.auto
