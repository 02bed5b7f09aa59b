-- amct-lsp for Neovim 0.11's vim.lsp.config (nvim-lspconfig's config shape).
-- With this folder on 'runtimepath' (or the file copied to ~/.config/nvim/lsp/):
--   vim.lsp.config('amct_lsp', { settings = { amct = { socVersion = 'Ascend310P3' } } })
--   vim.lsp.enable('amct_lsp')
-- The settings are those of the server (see neovim/README.md).
return {
  cmd = { 'amct-lsp' },
  filetypes = { 'amct_cfg', 'pbtxt' },
  root_markers = { '.amct-lsp', '.git' },
  settings = { amct = {} },
  -- Take pushed diagnostics (as the plugin does): offer no pull, and do not pull.
  before_init = function(params)
    if params.capabilities and params.capabilities.textDocument then
      params.capabilities.textDocument.diagnostic = nil
    end
  end,
  on_init = function(client)
    client.server_capabilities.diagnosticProvider = nil
  end,
}
