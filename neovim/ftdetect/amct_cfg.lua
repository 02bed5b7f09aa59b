-- Filetypes of amct-lsp's files (Neovim 0.7 and later).
--   amct_cfg: AMCT configs: *quant*.cfg, *prune*.cfg, *compress*.cfg, *retrain*.cfg,
--             *distill*.cfg, and any .cfg whose first line is a `# proto-...:` header
--             (.cfg is a generic extension: other .cfg files keep Neovim's `cfg`).
--   pbtxt:    protobuf text format (.txtpb .textproto .textpb .pbtxt .prototxt), as
--             Neovim names it.
local detect = require('amct_lsp.filetype')

local group = vim.api.nvim_create_augroup('amct_lsp_ftdetect', { clear = true })
vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  group = group,
  pattern = { '*.cfg', '*.txtpb', '*.textproto', '*.textpb', '*.pbtxt', '*.prototxt' },
  callback = function(args)
    local first_line = vim.api.nvim_buf_get_lines(args.buf, 0, 1, false)[1] or ''
    local filetype = detect.filetype(vim.api.nvim_buf_get_name(args.buf), first_line)
    if filetype and vim.bo[args.buf].filetype ~= filetype then
      vim.bo[args.buf].filetype = filetype
    end
  end,
})
