-- File association rules, shared by ftdetect and the tests. The same rules as the
-- VS Code extension (vscode-extension/src/fileAssociation.ts).
local M = {}

M.amct_name_words = { 'quant', 'prune', 'compress', 'retrain', 'distill' }
M.textproto_extensions = { 'txtpb', 'textproto', 'textpb', 'pbtxt', 'prototxt' }

--- Whether a first line binds a schema: `# proto-file: x.proto`, `# proto-message: pkg.M`.
function M.has_schema_header(first_line)
  return first_line:match('^%s*#%s*proto%-file:') ~= nil
    or first_line:match('^%s*#%s*proto%-message:') ~= nil
    or first_line:match('^%s*#%s*proto%-import:') ~= nil
end

--- 'amct_cfg', 'pbtxt' or nil (not ours) for a file name and its first line.
function M.filetype(path, first_line)
  local name = (path:match('[^/\\]+$') or path):lower()
  local stem, extension = name:match('^(.*)%.([^.]+)$')
  if not extension then return nil end
  for _, textproto in ipairs(M.textproto_extensions) do
    if extension == textproto then return 'pbtxt' end
  end
  if extension ~= 'cfg' then return nil end
  for _, word in ipairs(M.amct_name_words) do
    if stem:find(word, 1, true) then return 'amct_cfg' end
  end
  if M.has_schema_header(first_line or '') then return 'amct_cfg' end
  return nil
end

return M
