-- The Neovim session of the README screenshots (scripts/screenshots/neovim.sh):
-- the plugin from this repository, tree-sitter highlighting, diagnostics as virtual text.
local repo = vim.env.AMCT_REPO
vim.opt.runtimepath:prepend(repo .. '/neovim')
vim.cmd('filetype plugin indent on')
vim.cmd('syntax on')
vim.o.termguicolors = true
vim.o.number = true
vim.o.signcolumn = 'yes'
vim.o.laststatus = 2
vim.o.updatetime = 300
vim.o.shortmess = vim.o.shortmess .. 'I'
if vim.fn.has('nvim-0.11') == 1 then vim.o.winborder = 'rounded' end
vim.diagnostic.config({ virtual_text = true, signs = true })
require('amct_lsp').setup({ cmd = { vim.env.AMCT_LSP } })
local ts = require('amct_lsp.treesitter')
ts.setup({ parser = ts.build(vim.fn.tempname() .. '/textproto.so') })
