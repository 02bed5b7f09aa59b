// End-to-end in a real VS Code: code-server (VS Code 1.99 in the browser) driven by
// Debian's Chromium through playwright-core, with the built .vsix installed.
// It checks what a user sees and saves a screenshot of every step in OUT.
//
//   node test/e2e/code-server.test.mjs
// Environment: VSIX (default: newest *.vsix here), CODE_SERVER_ENTRY (default: from
// ../scripts/install-code-server.sh), CHROMIUM (default /usr/bin/chromium),
// OUT (default test-output/e2e). Exit 0 when every check passes.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repo = path.resolve(root, '..');
const out = path.resolve(process.env.OUT ?? path.join(root, 'test-output/e2e'));
const vsix = process.env.VSIX ?? fs.readdirSync(root).filter((f) => f.endsWith('.vsix'))
  .map((f) => path.join(root, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
const entry = process.env.CODE_SERVER_ENTRY ??
  execFileSync(path.join(repo, 'scripts/install-code-server.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT_MS ?? 60000);

let passed = 0;
let failed = 0;
function check(condition, message, detail = '') {
  if (condition) passed++; else failed++;
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${message}${!condition && detail ? `\n     ${detail}` : ''}`);
}

const freePort = () => new Promise((resolve) => {
  const server = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});

async function waitForHttp(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on ${url} within ${timeoutMs} ms`);
}

// ---- the workspace and a fresh VS Code profile ------------------------------------
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'amct-code-server-'));
const workspace = path.join(tmp, 'workspace');
const userData = path.join(tmp, 'user-data');
const extensions = path.join(tmp, 'extensions');
fs.mkdirSync(workspace);
fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
fs.copyFileSync(path.join(repo, 'examples/quant.cfg'), path.join(workspace, 'quant.cfg'));
// The broken copy: an enum value that does not exist.
const broken = fs.readFileSync(path.join(repo, 'examples/quant.cfg'), 'utf8').replace('dst_type: INT4', 'dst_type: INT9');
fs.writeFileSync(path.join(workspace, 'broken_quant.cfg'), broken);
fs.writeFileSync(path.join(workspace, 'scratch_quant.cfg'), '');
// .cfg files: one that declares its schema in the first line, one of another tool.
fs.writeFileSync(path.join(workspace, 'model.cfg'), '# proto-message: AMCTRetrainConfig\nretrain_weight_quant_config {\n  arq_retrain {\n    dst_type: INT8\n  }\n}\n');
fs.writeFileSync(path.join(workspace, 'setup.cfg'), '[metadata]\nname = example\n');
/** A small safetensors file with the layers of examples/quant.cfg's model (deterministic values). */
function writeSafetensors(file) {
  const tensors = [['conv1.weight', [16, 3, 3, 3]], ['layer1.0.conv1.weight', [16, 16, 3, 3]], ['fc.weight', [10, 16]]];
  let offset = 0;
  let seed = 1;
  const header = {};
  const chunks = [];
  for (const [name, shape] of tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n).map(() => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed / 2147483648 - 0.5) * 0.2; });
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
    chunks.push(Buffer.from(data.buffer));
  }
  let json = JSON.stringify(header);
  while (json.length % 8) json += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(json), ...chunks]));
}
writeSafetensors(path.join(workspace, 'model.safetensors'));
fs.writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify({
  'amct.weights': 'model.safetensors',  // relative: resolved against the workspace folder
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.tips.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'workbench.enableExperiments': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'editor.fontSize': 14,
  'editor.stickyScroll.enabled': false,
  'workbench.reduceMotion': 'on',
}, null, 2));

execFileSync(process.execPath, [entry, '--install-extension', vsix, '--extensions-dir', extensions], { stdio: 'inherit' });
const port = await freePort();
const codeServerLog = fs.openSync(path.join(out, 'code-server.log'), 'w');
const codeServer = spawn(process.execPath, [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
  '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userData,
  '--extensions-dir', extensions, workspace], { stdio: ['ignore', codeServerLog, codeServerLog], detached: true });

let browser;
let page;
let step = 0;
const shot = async (name) => page.screenshot({ path: path.join(out, `${String(++step).padStart(2, '0')}-${name}.png`) });

/** The server inside the installed extension. */
function bundledServer() {
  const installed = fs.readdirSync(extensions).find((d) => d.startsWith('amct-lsp.amct-lsp'));
  return path.join(extensions, installed, 'server/linux-x64/amct-lsp');
}

async function quickOpen(fileName) {
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  await input.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
  await input.fill(fileName);
  const exact = new RegExp(`^${fileName.replace(/[.]/g, '\\.')}$`);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
  await row.click({ timeout: STEP_TIMEOUT });
  await page.locator(`.tab.active[aria-label^="${fileName}"]`).waitFor({ timeout: STEP_TIMEOUT });
  await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: STEP_TIMEOUT });
}

async function command(title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  await input.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: STEP_TIMEOUT });
  await page.keyboard.press('Enter');
}

/** Moves the cursor to a 1-based line and column with "Go to Line" (quick input ':line:column'). */
async function goTo(line, column) {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  await input.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT });
}

/** Shows the hover at the cursor (Ctrl+K Ctrl+I): the keyboard does not depend on where the mouse rests. */
async function showHover() {
  await page.locator('.editor-instance .monaco-editor textarea').first().focus();
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
}

async function attempt(name, body) {
  try {
    await body();
  } catch (error) {
    check(false, name, String(error).split('\n')[0]);
    await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`).catch(() => {});
  }
}

try {
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, codeServer, 60000);
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120000 });
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'quant.cfg' }).first().waitFor({ timeout: STEP_TIMEOUT });

  // 1. The language mode of an AMCT config, and the status bar item.
  await attempt('language mode', async () => {
    await quickOpen('broken_quant.cfg');
    const mode = page.locator('#status\\.editor\\.mode');
    await mode.filter({ hasText: 'AMCT config' }).waitFor({ timeout: STEP_TIMEOUT });
    check(true, 'broken_quant.cfg opens in the "AMCT config" language mode');
    const status = page.locator('#amct-lsp\\.amct-lsp\\.amct\\.status, .statusbar-item', { hasText: 'AMCTRetrainConfig' }).first();
    await status.waitFor({ timeout: STEP_TIMEOUT });
    const text = await status.innerText();
    check(/AMCTRetrainConfig/.test(text) && /Ascend310P3/.test(text), 'the status bar shows the bound schema and the SoC of the # soc: header', text);
    await shot('language-mode');
  });

  await attempt('file association', async () => {
    await quickOpen('model.cfg');
    await page.locator('#status\\.editor\\.mode').filter({ hasText: 'AMCT config' }).waitFor({ timeout: STEP_TIMEOUT });
    check(true, 'model.cfg, whose first line is a # proto-message: header, opens as "AMCT config"');
    await quickOpen('setup.cfg');
    const mode = page.locator('#status\\.editor\\.mode');
    await mode.filter({ hasNotText: 'AMCT config' }).waitFor({ timeout: STEP_TIMEOUT });
    check(!(await mode.innerText()).includes('AMCT'), 'setup.cfg keeps its own language', await mode.innerText());
  });

  // 2. Diagnostics: a squiggle, the Problems count (the same as `amct-lsp --check`) and the message.
  await attempt('diagnostics', async () => {
    // Exit status 1: errors found.
    const cli = JSON.parse(spawnSync(bundledServer(), ['--check', '--format', 'json', path.join(workspace, 'broken_quant.cfg')],
      { encoding: 'utf8' }).stdout);
    const expected = cli.summary.errors;
    await quickOpen('broken_quant.cfg');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: STEP_TIMEOUT });
    await page.keyboard.press('Control+Shift+M');
    const rows = page.locator('.markers-panel .monaco-list-row');
    await rows.first().waitFor({ timeout: STEP_TIMEOUT });
    const problems = page.locator('#status\\.problems');
    const statusText = (await problems.innerText()).replace(/\s+/g, ' ').trim();
    const listed = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    check(statusText.startsWith(`${expected} `), `the Problems count in the status bar is ${expected} error(s), as amct-lsp --check says`,
      `status bar: "${statusText}"; Problems panel: ${JSON.stringify(listed)}`);
    check(listed.some((t) => t.includes("'INT9' is not a value of enum DataType")),
      "the Problems panel lists \"'INT9' is not a value of enum DataType\"", JSON.stringify(listed));
    await goTo(30, 23);  // the cursor on INT9, the line in view above the panel
    await showHover();
    await page.locator('.monaco-hover:not(.hidden)', { hasText: 'INT9' }).first().waitFor({ timeout: STEP_TIMEOUT });
    await shot('diagnostic');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+J');  // close the panel
  });

  // 3. Completion after typing inside `retrain_weight_quant_config {`.
  await attempt('completion', async () => {
    await quickOpen('scratch_quant.cfg');
    await page.locator('.editor-instance .monaco-editor textarea').first().focus();
    await page.keyboard.type('retrain_weight_quant_config {');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+Space');
    const widget = page.locator('.suggest-widget.visible');
    await widget.locator('.monaco-list-row').first().waitFor({ timeout: STEP_TIMEOUT });
    const labels = await widget.locator('.monaco-list-row .label-name').allInnerTexts();
    check(labels.includes('arq_retrain') && labels.includes('ulq_retrain'),
      'completion inside retrain_weight_quant_config offers arq_retrain and ulq_retrain', `got: ${labels.join(', ')}`);
    check(!labels.includes('batch_num'), 'completion does not offer top-level fields inside the block', `got: ${labels.join(', ')}`);
    // Show the documentation of the selected item too (Ctrl+Space again toggles it).
    if (!(await page.locator('.suggest-details-container .suggest-details').isVisible())) await page.keyboard.press('Control+Space');
    await page.locator('.suggest-details', { hasText: 'arq_retrain' }).first().waitFor({ timeout: STEP_TIMEOUT });
    await shot('completion');
    await page.keyboard.press('Escape');
  });

  // 4. Hover on a field name in quant.cfg; 5. the code lens of the override.
  await attempt('hover', async () => {
    await quickOpen('quant.cfg');
    await page.locator('.editor-instance .view-lines .view-line span span', { hasText: /^channel_wise$/ }).first()
      .waitFor({ timeout: STEP_TIMEOUT });
    await goTo(19, 10);  // the cursor on channel_wise
    await showHover();
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'channel_wise' }).first();
    await hover.waitFor({ timeout: STEP_TIMEOUT });
    const text = await hover.innerText();
    check(/channel_wise = 2/.test(text), 'hover on channel_wise shows the field signature', text.slice(0, 200));
    await shot('hover');
    await page.keyboard.press('Escape');
  });

  await attempt('code lens', async () => {
    await goTo(45, 1);  // the override_layer_configs block is below the first screen
    const lens = page.locator('.editor-instance .codelens-decoration', { hasText: 'clip [-3, 3]' }).first();
    await lens.waitFor({ timeout: STEP_TIMEOUT });
    const titles = await page.locator('.editor-instance .codelens-decoration').allInnerTexts();
    check(titles.some((t) => t.includes('clip [-3, 3] (this block)')), 'a code lens shows the override winning with its clip range', titles.join(' | '));
    await lens.scrollIntoViewIfNeeded();
    await shot('codelens');
  });

  // Commands: show the resolved config of a layer; select the SoC (status bar follows).
  await attempt('resolve command', async () => {
    await command('AMCT: Show resolved config of a layer');
    const input = page.locator('.quick-input-widget .quick-input-box input').first();
    await input.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    await input.fill('layer1.0.conv1:Conv2d');
    await page.keyboard.press('Enter');
    const output = page.locator('.output-view .view-lines', { hasText: 'clip [-3, 3]' }).first();
    await output.waitFor({ timeout: STEP_TIMEOUT });
    const text = (await output.innerText()).replace(/\u00a0/g, ' ');
    check(/layer layer1\.0\.conv1 \(Conv2d\)/.test(text) && /override_layer_configs/.test(text),
      'AMCT: Show resolved config shows the layer\'s effective config in the AMCT output channel', text.slice(0, 300));
    await shot('resolve');
    await page.keyboard.press('Control+J');
  });

  // Run estimate: amct-lsp --estimate with amct.weights. A server without --estimate (it
  // is being built) must show its own message; one with it, the per-layer table.
  await attempt('estimate command', async () => {
    await quickOpen('quant.cfg');
    const probe = spawnSync(bundledServer(), ['--estimate', path.join(workspace, 'quant.cfg'), '--weights',
      path.join(workspace, 'model.safetensors'), '--format', 'text'], { encoding: 'utf8' });
    const supported = !/not available in this build/.test(probe.stderr);
    await command('AMCT: Run error estimate for this file');
    if (supported) {
      const output = page.locator('.output-view .view-lines', { hasText: 'summary:' }).first();
      await output.waitFor({ timeout: STEP_TIMEOUT });
      const text = (await output.innerText()).replace(/\u00a0/g, ' ');
      // The server found model.safetensors: the relative setting was resolved against the workspace.
      check(/layer1\.0\.conv1/.test(text) && /SQNR/.test(text) && /summary:/.test(text),
        'AMCT: Run error estimate shows the per-layer table for amct.weights (relative to the workspace)', text.slice(0, 400));
    } else {
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'estimate failed' }).first();
      await toast.waitFor({ timeout: STEP_TIMEOUT });
      const text = await toast.innerText();
      check(/not available in this build/.test(text), 'AMCT: Run error estimate shows the server\'s message (this build has no --estimate)', text);
    }
    await shot('estimate');
    await page.keyboard.press('Control+J');
  });

  await attempt('select SoC', async () => {
    await quickOpen('scratch_quant.cfg');
    await command('AMCT: Select SoC version');
    await page.locator('.quick-input-widget .quick-input-box input').first().fill('Ascend910B2');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Ascend910B2' }).first();
    await row.waitFor({ timeout: STEP_TIMEOUT });
    const rowText = await row.innerText();
    check(/Atlas A2/.test(rowText), 'the SoC quick pick lists Ascend910B2 with its series', rowText);
    await shot('select-soc');
    await row.click();
    const status = page.locator('.statusbar-item', { hasText: 'Ascend910B2' }).first();
    await status.waitFor({ timeout: STEP_TIMEOUT });
    check(true, 'after picking Ascend910B2 the status bar shows it');
  });
} catch (error) {
  check(false, 'the workbench loads with the workspace', String(error).split('\n')[0]);
  if (page) await shot('failed-startup').catch(() => {});
} finally {
  await browser?.close().catch(() => {});
  try { process.kill(-codeServer.pid); } catch { /* already gone */ }
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`code-server e2e: ${passed} passed, ${failed} failed; screenshots in ${path.relative(process.cwd(), out)}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
