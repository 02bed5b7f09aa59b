-- End-to-end: the neovim/ plugin of this repository, loaded into real Neovim
-- (headless), with Neovim's own LSP client talking to the real amct-lsp.
-- Run by tests/neovim/run.sh:
--   nvim --headless -u NONE -i NONE -n -c "luafile tests/neovim/plugin_e2e.lua" BINARY REPO
-- Prints one line per check; exits 0 when all pass, 1 otherwise (with what was seen).
local binary = vim.fn.argv(0)
local repo = vim.fn.argv(1)
local failures, passes = 0, 0

local function check(condition, description, seen)
  if condition then
    passes = passes + 1
    io.stdout:write('ok   ' .. description .. '\n')
  else
    failures = failures + 1
    io.stdout:write('FAIL ' .. description .. '\n')
    if seen ~= nil then io.stdout:write('     seen: ' .. vim.inspect(seen):gsub('\n%s*', ' ') .. '\n') end
  end
  return condition
end

local function finish()
  io.stdout:write(string.format('neovim plugin (nvim %s): %d passed, %d failed\n',
    tostring(vim.version().major .. '.' .. vim.version().minor .. '.' .. vim.version().patch), passes, failures))
  vim.cmd(failures == 0 and 'qall!' or 'cquit!')
end

-- The plugin's messages, one per line in the log (headless Neovim prints them without newline).
vim.notify = function(text) io.stdout:write('     (message) ' .. tostring(text) .. '\n') end

local ok, err = xpcall(function()
  -- Load the plugin from the repository, as a plugin manager would put it on 'runtimepath'.
  vim.opt.runtimepath:prepend(repo .. '/neovim')
  vim.cmd('filetype on')
  vim.cmd('runtime plugin/amct_lsp.lua')
  local amct = require('amct_lsp')
  amct.setup({ cmd = { binary }, settings = { api = 'compressed' } })

  -- A workspace: root marker, the example with a mistake, files for detection.
  local work = vim.fn.tempname()
  vim.fn.mkdir(work .. '/.git', 'p')
  vim.fn.mkdir(work .. '/configs', 'p')
  local lines = vim.fn.readfile(repo .. '/examples/quant.cfg')
  table.insert(lines, 'batch_num: 0')
  vim.fn.writefile(lines, work .. '/configs/quant.cfg')
  vim.fn.writefile({ '[metadata]', 'name = x' }, work .. '/setup.cfg')
  vim.fn.writefile({ '# proto-file: model.proto', 'a: 1' }, work .. '/model.cfg')
  vim.fn.writefile({ 'a: 1' }, work .. '/data.txtpb')
  local nosoc = {}
  for _, line in ipairs(vim.fn.readfile(repo .. '/examples/quant.cfg')) do
    if not line:match('^# soc:') then table.insert(nosoc, line) end
  end
  vim.fn.writefile(nosoc, work .. '/nosoc_quant.cfg')

  -- Filetype detection (ftdetect/amct_cfg.lua).
  for _, case in ipairs({ { 'configs/quant.cfg', 'amct_cfg' }, { 'model.cfg', 'amct_cfg' }, { 'data.txtpb', 'pbtxt' } }) do
    vim.cmd('edit ' .. work .. '/' .. case[1])
    check(vim.bo.filetype == case[2], case[1] .. ' has filetype ' .. case[2], vim.bo.filetype)
  end
  vim.cmd('edit ' .. work .. '/setup.cfg')
  check(vim.bo.filetype ~= 'amct_cfg', 'setup.cfg (an ordinary .cfg) is not amct_cfg', vim.bo.filetype)

  -- The example: the plugin starts the server for it.
  vim.cmd('edit ' .. work .. '/configs/quant.cfg')
  local bufnr = vim.api.nvim_get_current_buf()
  local function client()
    for _, c in pairs(vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)) do
      if c.name == 'amct_lsp' then return c end
    end
  end
  check(vim.wait(10000, function() return client() ~= nil and client().initialized ~= false end, 20),
    'setup{} starts amct-lsp and attaches it to the amct_cfg buffer')
  local c = client()
  if not c then error('no client: the remaining checks need one') end
  check(c.config.root_dir == work, 'the root folder is the one with .git, above configs/', c.config.root_dir)

  local function diagnostic_codes(buffer)
    local codes = {}
    for _, d in ipairs(vim.diagnostic.get(buffer)) do codes[#codes + 1] = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) end
    return codes
  end
  local found = vim.wait(15000, function() return vim.tbl_contains(diagnostic_codes(bufnr), 'batch-num-zero') end, 20)
  check(found, 'diagnostics arrive: batch_num: 0 is reported as batch-num-zero', vim.diagnostic.get(bufnr))
  local count = 0
  for _, code in ipairs(diagnostic_codes(bufnr)) do
    if code == 'batch-num-zero' then count = count + 1 end
  end
  check(count == 1, 'the problem is listed once (pushed, not also pulled)', vim.diagnostic.get(bufnr))
  local on_last_line = false
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum == #lines - 1 then on_last_line = true end
  end
  check(on_last_line, 'the diagnostic is on the last line', vim.diagnostic.get(bufnr))

  -- Completion on an empty line inside retrain_weight_quant_config > arq_retrain.
  local uri = vim.uri_from_bufnr(bufnr)
  local target
  for i, line in ipairs(lines) do
    if line:match('channel_wise: true') then target = i - 1 break end
  end
  vim.api.nvim_buf_set_lines(bufnr, target, target + 1, false, { '        ' })
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/completion',
    { textDocument = { uri = uri }, position = { line = target, character = 8 } }, 10000)
  local labels = {}
  for _, response in pairs(responses or {}) do
    for _, item in ipairs(response.result and (response.result.items or response.result) or {}) do labels[#labels + 1] = item.label end
  end
  check(vim.tbl_contains(labels, 'channel_wise'), 'completion in arq_retrain offers channel_wise (just deleted)', labels)
  check(not vim.tbl_contains(labels, 'dst_type'), 'completion leaves out dst_type, already set in the block', labels)
  vim.cmd('silent undo')

  -- Hover on a field name.
  responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover',
    { textDocument = { uri = uri }, position = { line = target, character = 10 } }, 10000)
  local hover = ''
  for _, response in pairs(responses or {}) do
    if response.result and response.result.contents then hover = response.result.contents.value or vim.inspect(response.result.contents) end
  end
  check(hover:find('channel_wise = 2', 1, true) ~= nil, 'hover on channel_wise shows its declaration', hover)

  -- Code lenses: fetched by the plugin's refresh, stored by Neovim's codelens module.
  vim.api.nvim_exec_autocmds('CursorHold', { buffer = bufnr })
  local function lens_titles()
    local titles = {}
    for _, lens in ipairs(vim.lsp.codelens.get(bufnr) or {}) do
      if lens.command then titles[#titles + 1] = lens.command.title end
    end
    return titles
  end
  local lens_found = vim.wait(10000, function()
    for _, title in ipairs(lens_titles()) do
      if title:find('clip [-3, 3] (this block)', 1, true) then return true end
    end
    return false
  end, 50)
  check(lens_found, 'the plugin refreshes code lenses: the override wins with clip [-3, 3]', lens_titles())

  -- :AmctResolve shows the effective config of a layer.
  vim.cmd('AmctResolve layer1.0.conv1 Conv2d')
  local resolve_buf = vim.fn.bufnr('amct-lsp://resolve')
  local resolved = resolve_buf ~= -1 and vim.api.nvim_buf_get_lines(resolve_buf, 0, -1, false) or {}
  check(table.concat(resolved, '\n'):find('clip [-3, 3]', 1, true) ~= nil and table.concat(resolved, '\n'):find('override_layer_configs', 1, true) ~= nil,
    ':AmctResolve layer1.0.conv1 Conv2d shows clip [-3, 3] from override_layer_configs', resolved)

  -- :AmctEstimate runs the server's --estimate on sample weights: the per-layer table,
  -- or the server's own message from a build without --estimate.
  local weights = work .. '/model.safetensors'
  do
    -- safetensors: 8-byte little-endian header length, JSON header, raw F32 data. The
    -- values cycle through floats exact in binary (0.5, -0.25, 0.125, -0.0625, 0.375).
    local floats = { '\0\0\0\63', '\0\0\128\190', '\0\0\0\62', '\0\0\128\189', '\0\0\192\62' }
    local tensors = { { 'conv1.weight', { 8, 3, 3, 3 } }, { 'layer1.0.conv1.weight', { 8, 8, 3, 3 } }, { 'fc.weight', { 10, 8 } } }
    local header, data, offset = {}, {}, 0
    for _, t in ipairs(tensors) do
      local n = 1
      for _, d in ipairs(t[2]) do n = n * d end
      header[#header + 1] = string.format('"%s":{"dtype":"F32","shape":[%s],"data_offsets":[%d,%d]}',
        t[1], table.concat(t[2], ','), offset, offset + 4 * n)
      for i = 1, n do data[#data + 1] = floats[(i * 7 + #t[1]) % #floats + 1] end
      offset = offset + 4 * n
    end
    local json = '{' .. table.concat(header, ',') .. '}'
    json = json .. string.rep(' ', (8 - #json % 8) % 8)
    local length = ''
    local rest = #json
    for _ = 1, 8 do length = length .. string.char(rest % 256); rest = math.floor(rest / 256) end
    local file = assert(io.open(weights, 'wb'))
    file:write(length, json, table.concat(data))
    file:close()
  end
  local probe = vim.fn.system({ binary, '--estimate', work .. '/configs/quant.cfg', '--weights', weights })
  local supported = not probe:find('not available in this build', 1, true)
  vim.cmd('AmctEstimate ' .. weights)
  local estimate_buf = vim.fn.bufnr('amct-lsp://estimate')
  local estimate = estimate_buf ~= -1 and vim.api.nvim_buf_get_lines(estimate_buf, 0, -1, false) or {}
  local estimate_text = table.concat(estimate, '\n')
  if supported then
    check(estimate_text:find('layer1.0.conv1', 1, true) ~= nil and estimate_text:find('summary:', 1, true) ~= nil,
      ':AmctEstimate shows the per-layer error table', estimate)
  else
    check(estimate[1] ~= nil and estimate[1]:find('--estimate', 1, true) ~= nil and estimate_text:find('not available in this build', 1, true) ~= nil,
      ":AmctEstimate shows the command and the server's message (this build has no --estimate)", estimate)
  end

  -- :AmctSoc changes amct.socVersion in the running server: INT4 becomes an error on Ascend910B2.
  vim.cmd('edit ' .. work .. '/nosoc_quant.cfg')
  local nosoc_buf = vim.api.nvim_get_current_buf()
  check(vim.wait(10000, function() return vim.lsp.buf_is_attached(nosoc_buf, c.id) end, 20),
    'a second config of the same root attaches to the same server')
  -- Without a SoC, INT4 is a warning (it runs only on Ascend310P*); with Ascend910B2, an error.
  local function soc_severity()
    for _, d in ipairs(vim.diagnostic.get(nosoc_buf)) do
      if d.code == 'soc-unsupported-dtype' then return d.severity end
    end
  end
  check(vim.wait(10000, function() return soc_severity() == vim.diagnostic.severity.WARN end, 20),
    'without a SoC, INT4 weights are a soc-unsupported-dtype warning', vim.diagnostic.get(nosoc_buf))
  vim.cmd('AmctSoc Ascend910B2')
  check(vim.wait(10000, function() return soc_severity() == vim.diagnostic.severity.ERROR end, 20),
    ':AmctSoc Ascend910B2 reaches the server: INT4 weights become an error', vim.diagnostic.get(nosoc_buf))
  check(#amct.soc_names() > 10 and vim.tbl_contains(amct.soc_names(), 'Ascend310P3'), ':AmctSoc completes the known SoCs', amct.soc_names())

  -- lsp/amct_lsp.lua has nvim-lspconfig's shape.
  local config = dofile(repo .. '/neovim/lsp/amct_lsp.lua')
  check(type(config.cmd) == 'table' and vim.tbl_contains(config.filetypes, 'amct_cfg') and config.root_markers ~= nil,
    'lsp/amct_lsp.lua is a vim.lsp.config table (cmd, filetypes, root_markers)', config)

  -- Tree-sitter: the repository's grammar compiled and loaded, the project's queries.
  local ts = require('amct_lsp.treesitter')
  local parser, build_error = ts.build(work .. '/parser/textproto.so')
  if check(parser ~= nil, 'amct_lsp.treesitter.build() compiles grammar/src with cc', build_error) then
    ts.setup({ parser = parser })
    vim.cmd('edit ' .. work .. '/configs/quant.cfg')
    local tsbuf = vim.api.nvim_get_current_buf()
    vim.cmd('doautocmd FileType')
    local ts_parser = vim.treesitter.get_parser(tsbuf, 'textproto')
    local root = ts_parser:parse()[1]:root()
    local get_query = (vim.treesitter.query and vim.treesitter.query.get) or vim.treesitter.get_query
    local query = get_query('textproto', 'highlights')
    local captured = {}
    for id, node in query:iter_captures(root, tsbuf, 0, -1) do
      local text = vim.treesitter.get_node_text and vim.treesitter.get_node_text(node, tsbuf) or vim.treesitter.query.get_node_text(node, tsbuf)
      captured[query.captures[id] .. ' ' .. text] = true
    end
    check(root:type() == 'source_file' and not root:has_error(), 'the textproto parser parses examples/quant.cfg without errors', root:sexpr():sub(1, 200))
    check(captured['property retrain_data_quant_config'] and captured['keyword.directive # soc:'] and captured['constant INT8'],
      'highlights.scm captures field names, the # soc: header and enum values', vim.tbl_keys(captured))
    check(vim.treesitter.highlighter.active[tsbuf] ~= nil, 'the buffer is highlighted by tree-sitter')
  end

  vim.lsp.stop_client(c.id)

  -- Neovim 0.11+: lsp/amct_lsp.lua found on 'runtimepath' by vim.lsp.enable, without setup{}.
  if vim.lsp.enable and vim.lsp.config then
    vim.api.nvim_create_augroup('amct_lsp', { clear = true })  -- setup{}'s autocmds off
    vim.wait(5000, function() return #vim.lsp.get_clients({ name = 'amct_lsp' }) == 0 end, 20)
    vim.lsp.config('amct_lsp', { cmd = { binary } })
    vim.lsp.enable('amct_lsp')
    vim.fn.mkdir(work .. '/other', 'p')
    vim.fn.writefile({ 'batch_num: 0' }, work .. '/other/prune.cfg')
    vim.cmd('edit ' .. work .. '/other/prune.cfg')
    local enabled_buf = vim.api.nvim_get_current_buf()
    check(vim.wait(10000, function() return #vim.lsp.get_clients({ bufnr = enabled_buf, name = 'amct_lsp' }) == 1 end, 20),
      "vim.lsp.enable('amct_lsp') starts the server from lsp/amct_lsp.lua")
    check(vim.wait(10000, function() return vim.tbl_contains(diagnostic_codes(enabled_buf), 'batch-num-zero') end, 20),
      'and its diagnostics arrive', vim.diagnostic.get(enabled_buf))
    local function batch_count()
      local n = 0
      for _, code in ipairs(diagnostic_codes(enabled_buf)) do
        if code == 'batch-num-zero' then n = n + 1 end
      end
      return n
    end
    vim.wait(1000, function() return batch_count() > 1 end, 20)  -- a pulled duplicate would come by now
    check(batch_count() == 1, 'once each (pushed, not also pulled)', diagnostic_codes(enabled_buf))
    local enabled = vim.lsp.get_clients({ bufnr = enabled_buf, name = 'amct_lsp' })[1]
    check(enabled and enabled.config.root_dir == work, 'root_markers find the folder with .git', enabled and enabled.config.root_dir)
  end
end, debug.traceback)
if not ok then check(false, 'the test ran to the end', err) end
finish()
