// Renders a terminal capture with ANSI colours (tmux capture-pane -e) to a PNG with
// Chromium: node ansi-to-png.mjs CAPTURE.ans OUT.png
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../vscode-extension/package.json'));
const { chromium } = require('playwright-core');
const [input, output] = process.argv.slice(2);

const palette = ['#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
  '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff'];
const color256 = (n) => {
  if (n < 16) return palette[n];
  if (n >= 232) { const v = 8 + (n - 232) * 10; return `rgb(${v},${v},${v})`; }
  const i = n - 16;
  const c = (x) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
};
const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

let state = {};
const style = () => {
  const fg = state.reverse ? state.bg ?? '#14161b' : state.fg;
  const bg = state.reverse ? state.fg ?? '#e0e2ea' : state.bg;
  return [fg && `color:${fg}`, bg && `background:${bg}`, state.bold && 'font-weight:bold',
    state.italic && 'font-style:italic', state.underline && 'text-decoration:underline'].filter(Boolean).join(';');
};
let html = '';
for (const line of fs.readFileSync(input, 'utf8').split('\n')) {
  let rest = line;
  let out = '';
  while (rest.length) {
    const m = /\x1b\[([0-9;:]*)m/.exec(rest);
    const text = m ? rest.slice(0, m.index) : rest;
    if (text) out += `<span style="${style()}">${escapeHtml(text)}</span>`;
    if (!m) break;
    rest = rest.slice(m.index + m[0].length);
    const codes = m[1] === '' ? [0] : m[1].split(/[;:]/).map(Number);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      if (code === 0) state = {};
      else if (code === 1) state.bold = true;
      else if (code === 3) state.italic = true;
      else if (code === 4) state.underline = true;
      else if (code === 7) state.reverse = true;
      else if (code === 22) state.bold = false;
      else if (code === 23) state.italic = false;
      else if (code === 24) state.underline = false;
      else if (code === 27) state.reverse = false;
      else if (code >= 30 && code <= 37) state.fg = palette[code - 30];
      else if (code >= 90 && code <= 97) state.fg = palette[code - 82];
      else if (code >= 40 && code <= 47) state.bg = palette[code - 40];
      else if (code >= 100 && code <= 107) state.bg = palette[code - 92];
      else if (code === 39) delete state.fg;
      else if (code === 49) delete state.bg;
      else if ((code === 38 || code === 48) && codes[i + 1] === 5) { state[code === 38 ? 'fg' : 'bg'] = color256(codes[i + 2]); i += 2; }
      else if ((code === 38 || code === 48) && codes[i + 1] === 2) { state[code === 38 ? 'fg' : 'bg'] = `rgb(${codes[i + 2]},${codes[i + 3]},${codes[i + 4]})`; i += 4; }
    }
  }
  html += `<div class="line">${out || '&nbsp;'}</div>`;
}
const page = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#14161b;color:#e0e2ea}
#term{display:inline-block;padding:10px;font:14px/1.3 'DejaVu Sans Mono',monospace;white-space:pre}
.line{height:1.3em}</style><div id="term">${html}</div>`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
await tab.setContent(page);
await tab.locator('#term').screenshot({ path: output });
await browser.close();
