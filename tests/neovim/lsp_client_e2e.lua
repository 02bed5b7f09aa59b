-- End-to-end: real Neovim (Debian 12's 0.7) as the LSP client of amct-lsp.
-- Run by tests/neovim/run.sh:
--   nvim --headless -u NONE -c "luafile tests/neovim/lsp_client_e2e.lua" BINARY REPO
-- Exits 0 when every check passes; prints each failure and exits 1 otherwise.
local binary = vim.fn.argv(0)
local repo = vim.fn.argv(1)
local failures = 0
local passes = 0

local function check(condition, message)
  if condition then
    passes = passes + 1
    io.stdout:write('ok   ' .. message .. '\n')
  else
    failures = failures + 1
    io.stdout:write('FAIL ' .. message .. '\n')
  end
end

local function finish()
  io.stdout:write(string.format('neovim: %d passed, %d failed\n', passes, failures))
  vim.cmd(failures == 0 and 'qall!' or 'cquit!')
end

-- A copy of the example with a mistake in it, so there is a diagnostic to wait for.
local work = vim.fn.tempname()
vim.fn.mkdir(work, 'p')
local lines = vim.fn.readfile(repo .. '/examples/quant.cfg')
table.insert(lines, 'batch_num: 0')
local path = work .. '/quant.cfg'
vim.fn.writefile(lines, path)

vim.cmd('edit ' .. path)
local bufnr = vim.api.nvim_get_current_buf()
vim.bo[bufnr].filetype = 'amct_cfg'

local diagnostics_seen = {}
local client_id = vim.lsp.start_client({
  name = 'amct-lsp',
  cmd = { binary },
  root_dir = work,
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
      diagnostics_seen = result.diagnostics
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
  },
})
check(client_id ~= nil, 'the client starts amct-lsp')
vim.lsp.buf_attach_client(bufnr, client_id)

local client = vim.lsp.get_client_by_id(client_id)
check(vim.wait(10000, function() return client.initialized end, 20), 'initialize handshake completes')

-- Neovim 0.7 cannot pull, so the server pushes; 0.12 pulls (textDocument/diagnostic)
-- and the server does not push to it. Either way they end up in vim.diagnostic.
local function current_diagnostics()
  if #diagnostics_seen > 0 then return diagnostics_seen end
  local converted = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(converted, { code = d.code or lsp.code, range = { start = { line = d.lnum } } })
  end
  return converted
end
check(vim.wait(10000, function() return #current_diagnostics() > 0 end, 20), 'diagnostics are published or pulled')
local found = false
for _, d in ipairs(current_diagnostics()) do
  if d.code == 'batch-num-zero' and d.range.start.line == #lines - 1 then found = true end
end
check(found, 'batch_num: 0 is reported as batch-num-zero on the last line')

-- Completion inside retrain_weight_quant_config > arq_retrain (line of "channel_wise: true").
local target_line
for i, line in ipairs(lines) do
  if line:match('channel_wise: true') then target_line = i - 1 break end
end
local params = {
  textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  position = { line = target_line, character = 8 },
}
local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/completion', params, 10000)
local labels = {}
for _, response in pairs(responses or {}) do
  local items = response.result and (response.result.items or response.result) or {}
  for _, item in ipairs(items) do labels[item.label] = true end
end
-- The cursor is on "channel_wise" itself: it may be retyped, dst_type is already set.
check(labels['dst_type'] == nil, 'completion leaves out dst_type, already set in arq_retrain')
check(labels['channel_wise'] == true, 'completion offers the field under the cursor')

-- Completion on an empty line inside the same block after deleting dst_type.
params.position = { line = target_line, character = 0 }
vim.api.nvim_buf_set_lines(bufnr, target_line + 1, target_line + 2, false, { '' })
responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/completion',
  { textDocument = params.textDocument, position = { line = target_line + 1, character = 0 } }, 10000)
labels = {}
for _, response in pairs(responses or {}) do
  local items = response.result and (response.result.items or response.result) or {}
  for _, item in ipairs(items) do labels[item.label] = true end
end
check(labels['dst_type'] == true, 'after deleting dst_type, completion offers it again (incremental sync)')

-- Hover on the field name.
responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover',
  { textDocument = params.textDocument, position = { line = target_line, character = 10 } }, 10000)
local hover_text = ''
for _, response in pairs(responses or {}) do
  if response.result and response.result.contents then hover_text = response.result.contents.value or '' end
end
check(hover_text:find('channel_wise = 2', 1, true) ~= nil, 'hover shows the field signature')

-- Code lens above the override_layer_configs entry.
responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeLens', { textDocument = params.textDocument }, 10000)
local lens_titles = {}
for _, response in pairs(responses or {}) do
  for _, lens in ipairs(response.result or {}) do table.insert(lens_titles, lens.command and lens.command.title or '') end
end
local lens_found = false
for _, title in ipairs(lens_titles) do
  if title:find('clip [-3, 3] (this block)', 1, true) then lens_found = true end
end
check(lens_found, 'a code lens shows the override winning with its clip range')

vim.lsp.stop_client(client_id)
finish()
