-- Loaded once per session. Filetype detection lives in ftdetect/; the language
-- client starts with require('amct_lsp').setup{}.
if vim.g.loaded_amct_lsp then return end
vim.g.loaded_amct_lsp = true
