; Folds: every message body and every multi-element list.
[
  (message)
  (scalar_list)
  (message_list)
] @fold
