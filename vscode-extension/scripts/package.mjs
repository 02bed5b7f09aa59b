// npm run package: a linux-x64 .vsix with the amct-lsp binary inside.
//   AMCT_LSP_BINARY=path/to/amct-lsp npm run package     (default ../build/amct-lsp)
// Copies the binary to server/linux-x64/ and the SoC table to data/, bundles the
// extension with esbuild (production), then runs vsce. Prints the .vsix path last.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(root, '..');
const target = 'linux-x64';
const binary = path.resolve(process.env.AMCT_LSP_BINARY ?? path.join(repo, 'build/amct-lsp'));
if (!fs.existsSync(binary)) {
  console.error(`package: no server binary at ${binary}; build it first (cmake --build build --target amct-lsp) or set AMCT_LSP_BINARY`);
  process.exit(2);
}
const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();

fs.rmSync(path.join(root, 'server'), { recursive: true, force: true });
fs.mkdirSync(path.join(root, 'server', target), { recursive: true });
const bundled = path.join(root, 'server', target, 'amct-lsp');
fs.copyFileSync(binary, bundled);
fs.chmodSync(bundled, 0o755);
fs.mkdirSync(path.join(root, 'data'), { recursive: true });
fs.copyFileSync(path.join(repo, 'data/soc_capabilities.tsv'), path.join(root, 'data/soc_capabilities.tsv'));

execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'inherit' });
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.join(root, `${manifest.name}-${manifest.version}-${target}.vsix`);
execFileSync(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package',
  '--target', target, '--no-dependencies', '--skip-license', '--allow-missing-repository',
  '--no-update-package-json', '-o', out], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
console.error(`package: ${path.relative(process.cwd(), out)} (server: ${version})`);
console.log(out);
