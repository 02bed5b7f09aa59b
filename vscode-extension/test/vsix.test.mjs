// Unpacks the .vsix made by `npm run package` and checks what VS Code will install:
// the manifest, the grammars, and the bundled server (it must run: --version).
//   VSIX=path/to.vsix node --test test/vsix.test.mjs   (default: the newest *.vsix here)
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsix = process.env.VSIX ?? fs.readdirSync(root).filter((f) => f.endsWith('.vsix'))
  .map((f) => path.join(root, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'amct-vsix-'));

test.before(() => {
  assert.ok(vsix && fs.existsSync(vsix), 'no .vsix: run `npm run package` first');
  execFileSync('python3', ['-m', 'zipfile', '-e', vsix, unpacked]);
});
test.after(() => fs.rmSync(unpacked, { recursive: true, force: true }));

const read = (relative) => fs.readFileSync(path.join(unpacked, relative), 'utf8');

test('the vsix manifest names the extension and its platform (linux-x64)', () => {
  const manifest = read('extension.vsixmanifest');
  assert.match(manifest, /<Identity [^>]*Id="amct-lsp"[^>]*Publisher="amct-lsp"/);
  assert.match(manifest, /TargetPlatform="linux-x64"/);
});

test('package.json: entry point, languages, grammars, commands and settings', () => {
  const manifest = JSON.parse(read('extension/package.json'));
  assert.equal(manifest.main, './out/extension.js');
  assert.ok(fs.existsSync(path.join(unpacked, 'extension/out/extension.js')));
  assert.deepEqual(manifest.contributes.languages.map((l) => l.id), ['amct-cfg', 'textproto']);
  for (const language of manifest.contributes.languages) {
    assert.ok(fs.existsSync(path.join(unpacked, 'extension', language.configuration)), language.configuration);
  }
  assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(),
    ['amct.restartServer', 'amct.runEstimate', 'amct.selectSoc', 'amct.showResolvedConfig', 'amct.useForFile']);
  const settings = Object.keys(manifest.contributes.configuration.properties).sort();
  assert.deepEqual(settings, ['amct.api', 'amct.docsLanguage', 'amct.estimatesIn', 'amct.importRoots', 'amct.manifest', 'amct.schemaMappings',
    'amct.server.path', 'amct.socVersion', 'amct.trace.server', 'amct.weights']);
  assert.equal(manifest.contributes.configuration.properties['amct.server.path'].scope, 'machine-overridable');
  // Bundled: no node_modules in the package.
  assert.ok(!fs.existsSync(path.join(unpacked, 'extension/node_modules')));
});

test('the grammars are in the package and valid', () => {
  const manifest = JSON.parse(read('extension/package.json'));
  const scopes = {};
  for (const grammar of manifest.contributes.grammars) {
    const tm = JSON.parse(read(path.join('extension', grammar.path)));
    assert.equal(tm.scopeName, grammar.scopeName);
    scopes[grammar.language] = tm;
  }
  assert.ok(scopes.textproto.repository.header && scopes.textproto.repository.value, 'the textproto grammar has its rules');
  assert.deepEqual(scopes['amct-cfg'].patterns, [{ include: 'source.textproto' }]);
});

test('the bundled server runs: --version and a check of the example', () => {
  const server = path.join(unpacked, 'extension/server/linux-x64/amct-lsp');
  fs.chmodSync(server, 0o755);  // zip extraction by Python drops the mode; VS Code keeps it
  assert.match(execFileSync(server, ['--version'], { encoding: 'utf8' }), /^amct-lsp \d+\.\d+\.\d+/);
  const check = JSON.parse(execFileSync(server, ['--check', '--format', 'json', path.join(root, '../examples/quant.cfg')], { encoding: 'utf8' }));
  assert.equal(check.summary.errors, 0);
  assert.match(check.files[0].schema, /AMCTRetrainConfig/);
  assert.match(read('extension/data/soc_capabilities.tsv'), /^known\tAscend310P3$/m);
});
