-- amct-lsp client for Neovim 0.7 to 0.11, no dependencies.
--
--   require('amct_lsp').setup({
--     cmd = { 'amct-lsp' },                       -- the server binary
--     settings = { socVersion = 'Ascend310P3' },  -- the server's amct.* settings
--     root_markers = { '.amct-lsp', '.git' },
--     on_attach = function(client, bufnr) end,
--   })
--
-- Starts (or reuses, one per root folder) the server for every amct_cfg and pbtxt
-- buffer, refreshes code lenses, and adds :AmctSoc, :AmctEstimate, :AmctResolve.
local M = {}

local defaults = {
  cmd = { 'amct-lsp' },
  filetypes = { 'amct_cfg', 'pbtxt' },
  root_markers = { '.amct-lsp', '.git' },
  settings = {},
  on_attach = nil,
  codelens = true,
}

M.config = vim.deepcopy(defaults)
local clients_by_root = {}  -- Neovim 0.7: root folder -> client id

local has_start = vim.lsp.start ~= nil  -- 0.8+
local nvim_0_11 = vim.fn.has('nvim-0.11') == 1

local function get_clients(filter)
  if vim.lsp.get_clients then return vim.lsp.get_clients(filter) end
  local result = {}
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == filter.name then table.insert(result, client) end
  end
  return result
end

local function notify_client(client, method, params)
  if nvim_0_11 then return client:notify(method, params) end
  return client.notify(method, params)
end

local function message(text, level)
  vim.notify('amct-lsp: ' .. text, level or vim.log.levels.INFO)
end

--- The settings as the server reads them: {amct = {...}}. Accepts the flat form too.
local function server_settings()
  local settings = M.config.settings or {}
  if settings.amct then return settings end
  return { amct = settings }
end

local function exists(path)
  return vim.loop.fs_stat(path) ~= nil
end

--- The nearest folder above `path` holding one of the root markers, else the file's folder.
function M.root_dir(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local current = dir
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if exists(current .. '/' .. marker) then return current end
    end
    local parent = vim.fn.fnamemodify(current, ':h')
    if parent == current then return dir end
    current = parent
  end
end

local function refresh_codelens(bufnr)
  if not M.config.codelens then return end
  if vim.fn.has('nvim-0.10') == 1 then
    pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
  elseif bufnr == vim.api.nvim_get_current_buf() then
    pcall(vim.lsp.codelens.refresh)  -- 0.7-0.9: the current buffer
  end
end

local function on_attach(client, bufnr)
  if client.server_capabilities and client.server_capabilities.codeLensProvider then
    local group = vim.api.nvim_create_augroup('amct_lsp_codelens_' .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'CursorHold', 'BufWritePost' }, {
      group = group,
      buffer = bufnr,
      callback = function() refresh_codelens(bufnr) end,
    })
    refresh_codelens(bufnr)
  end
  if M.config.on_attach then M.config.on_attach(client, bufnr) end
end

--- amct-lsp pushes diagnostics to clients that cannot pull and answers pulls from those
--- that can. The plugin takes the pushed ones on every Neovim (0.7 cannot pull; 0.12 can):
--- one path, and pushes follow setting changes such as :AmctSoc at once. So the client
--- does not offer pull (before_init) and does not pull (on_init).
function M.before_init(params)
  if params.capabilities and params.capabilities.textDocument then
    params.capabilities.textDocument.diagnostic = nil
  end
end

function M.on_init(client)
  if client.server_capabilities then client.server_capabilities.diagnosticProvider = nil end
end

local function client_config(root)
  return {
    name = 'amct_lsp',
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = server_settings().amct,
    settings = server_settings(),
    before_init = M.before_init,
    on_init = M.on_init,
    on_attach = on_attach,
  }
end

--- Starts the server for a buffer, or attaches the buffer to the running one of its root.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == '' or vim.fn.executable(M.config.cmd[1]) ~= 1 then
    if path ~= '' then
      message(string.format("'%s' is not executable: set cmd in require('amct_lsp').setup{}", M.config.cmd[1]),
        vim.log.levels.WARN)
    end
    return nil
  end
  local root = M.root_dir(path)
  if has_start then
    return vim.lsp.start(client_config(root), { bufnr = bufnr })
  end
  local id = clients_by_root[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(client_config(root))
    clients_by_root[root] = id
  end
  if id then vim.lsp.buf_attach_client(bufnr, id) end
  return id
end

--- Sends changed settings to every running amct-lsp (and to clients started later).
function M.update_settings(changes)
  local settings = server_settings()
  M.config.settings = settings
  for key, value in pairs(changes) do settings.amct[key] = value end
  for _, client in ipairs(get_clients({ name = 'amct_lsp' })) do
    client.config.settings = vim.deepcopy(settings)
    notify_client(client, 'workspace/didChangeConfiguration', { settings = settings })
  end
end

-- ---- commands ----------------------------------------------------------------------

local plugin_root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')

--- SoC names the server knows (data/soc_capabilities.tsv of the repository).
function M.soc_names()
  local names = {}
  for _, table_path in ipairs({ plugin_root .. '/../data/soc_capabilities.tsv', plugin_root .. '/data/soc_capabilities.tsv' }) do
    if exists(table_path) then
      for _, line in ipairs(vim.fn.readfile(table_path)) do
        local name = line:match('^known\t(%S+)')
        if name then table.insert(names, name) end
      end
      break
    end
  end
  return names
end

--- Shows `lines` in a scratch buffer named `name` (reused), in a split.
local function show_output(name, lines)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].bufhidden = 'hide'
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  if vim.fn.bufwinnr(bufnr) == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, bufnr)
    vim.cmd('wincmd p')
  end
  return bufnr
end

--- Runs amct-lsp with `args` and shows its output (stdout, then stderr) in `name`.
function M.run_tool(name, args)
  local command = vim.list_extend(vim.deepcopy(M.config.cmd), args)
  local output = vim.fn.systemlist(command)
  local status = vim.v.shell_error
  local lines = { '$ ' .. table.concat(command, ' '), '' }
  vim.list_extend(lines, output)
  if status ~= 0 and status ~= 1 then
    table.insert(lines, '')
    table.insert(lines, string.format('(exit status %d)', status))
    message(string.format('%s failed: %s', args[1], output[#output] or ''), vim.log.levels.WARN)
  end
  return show_output(name, lines), status
end

local function current_file()
  local path = vim.api.nvim_buf_get_name(0)
  if path == '' then
    message('the buffer has no file', vim.log.levels.ERROR)
    return nil
  end
  if vim.bo.modified then vim.cmd('silent write') end  -- the command line reads the file
  return path
end

local function setting(key)
  local value = server_settings().amct[key]
  if value == nil or value == '' then return nil end
  return value
end

function M.estimate(weights)
  local path = current_file()
  if not path then return end
  weights = (weights ~= nil and weights ~= '') and weights or setting('weights')
  if not weights then
    message('give the weights file: :AmctEstimate path/to/weights.safetensors (or settings.weights)', vim.log.levels.ERROR)
    return
  end
  local args = { '--estimate', path, '--weights', vim.fn.fnamemodify(weights, ':p') }
  if setting('manifest') then vim.list_extend(args, { '--manifest', vim.fn.fnamemodify(setting('manifest'), ':p') }) end
  if setting('socVersion') then vim.list_extend(args, { '--soc', setting('socVersion') }) end
  vim.list_extend(args, { '--format', 'text' })
  return M.run_tool('amct-lsp://estimate', args)
end

function M.resolve(layer, layer_type)
  local path = current_file()
  if not path then return end
  if not layer or layer == '' then
    message('give the layer name: :AmctResolve layer1.0.conv1 [Conv2d]', vim.log.levels.ERROR)
    return
  end
  local args = { '--resolve', path, '--layer', layer }
  if layer_type and layer_type ~= '' then vim.list_extend(args, { '--type', layer_type }) end
  if setting('socVersion') then vim.list_extend(args, { '--soc', setting('socVersion') }) end
  if setting('api') then vim.list_extend(args, { '--api', setting('api') }) end
  vim.list_extend(args, { '--format', 'text' })
  return M.run_tool('amct-lsp://resolve', args)
end

function M.select_soc(soc)
  if soc and soc ~= '' then
    M.update_settings({ socVersion = soc == 'none' and '' or soc })
    message('socVersion = ' .. soc)
    return
  end
  local names = M.soc_names()
  table.insert(names, 1, 'none')
  vim.ui.select(names, { prompt = 'SoC the configs are checked for:' }, function(choice)
    if choice then M.select_soc(choice) end
  end)
end

local function create_commands()
  vim.api.nvim_create_user_command('AmctSoc', function(opts) M.select_soc(opts.args) end, {
    nargs = '?',
    complete = function() return vim.list_extend({ 'none' }, M.soc_names()) end,
    desc = 'amct-lsp: set the SoC (amct.socVersion); no argument: pick from the list',
  })
  vim.api.nvim_create_user_command('AmctEstimate', function(opts) M.estimate(opts.args) end, {
    nargs = '?',
    complete = 'file',
    desc = 'amct-lsp: per-layer error estimates of this config on sample weights',
  })
  vim.api.nvim_create_user_command('AmctResolve', function(opts) M.resolve(opts.fargs[1], opts.fargs[2]) end, {
    nargs = '+',
    desc = 'amct-lsp: the effective config of a layer: :AmctResolve NAME [TYPE]',
  })
end

function M.setup(opts)
  opts = opts or {}
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts)
  -- Lists replace the defaults instead of merging by index.
  for _, key in ipairs({ 'cmd', 'filetypes', 'root_markers' }) do
    if opts[key] then M.config[key] = opts[key] end
  end
  create_commands()
  local group = vim.api.nvim_create_augroup('amct_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args) M.attach(args.buf) end,
  })
  -- Buffers opened before setup().
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

return M
