-- Tree-sitter highlighting with this repository's grammar (grammar/) and queries
-- (grammar/queries/*.scm), without nvim-treesitter. Neovim 0.7 to 0.11.
--
--   require('amct_lsp.treesitter').build()   -- once: compiles grammar/src into
--                                            -- stdpath('data')/site/parser/textproto.so
--   require('amct_lsp.treesitter').setup()   -- loads it, registers amct_cfg and pbtxt,
--                                            -- highlights their buffers
-- With nvim-treesitter instead, see neovim/README.md.
local M = {}

local repo = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h:h')
M.grammar_dir = repo .. '/grammar'
M.default_parser = vim.fn.stdpath('data') .. '/site/parser/textproto.so'
M.filetypes = { 'amct_cfg', 'pbtxt' }

--- Compiles the parser with the C compiler (`cc`). Returns the .so path, or nil and the error.
function M.build(output)
  output = output or M.default_parser
  vim.fn.mkdir(vim.fn.fnamemodify(output, ':h'), 'p')
  local src = M.grammar_dir .. '/src'
  local result = vim.fn.system({ 'cc', '-shared', '-fPIC', '-O2', '-I', src, src .. '/parser.c', src .. '/scanner.c', '-o', output })
  if vim.v.shell_error ~= 0 then return nil, result end
  return output
end

local function read(path)
  local lines = vim.fn.readfile(path)
  return table.concat(lines, '\n')
end

--- Loads the parser and the project's queries; highlights amct_cfg and pbtxt buffers.
function M.setup(opts)
  opts = opts or {}
  local parser = opts.parser or M.default_parser
  if vim.treesitter.language.add then  -- 0.9+
    vim.treesitter.language.add('textproto', { path = parser })
    vim.treesitter.language.register('textproto', M.filetypes)
  else
    vim.treesitter.require_language('textproto', parser)
  end
  local set_query = (vim.treesitter.query and vim.treesitter.query.set) or vim.treesitter.set_query
  for _, name in ipairs({ 'highlights', 'folds', 'indents' }) do
    local file = M.grammar_dir .. '/queries/' .. name .. '.scm'
    if vim.fn.filereadable(file) == 1 then set_query('textproto', name, read(file)) end
  end
  local group = vim.api.nvim_create_augroup('amct_lsp_treesitter', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.filetypes,
    callback = function(args) M.start(args.buf) end,
  })
end

function M.start(bufnr)
  if vim.treesitter.start then
    vim.treesitter.start(bufnr, 'textproto')
  else
    vim.treesitter.highlighter.new(vim.treesitter.get_parser(bufnr, 'textproto'))
  end
end

return M
