// Bundles the extension into out/extension.js (vscode is provided by the host).
// --tests: also builds the vscode-free modules into out/lib/*.mjs for the unit tests.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';

const production = process.argv.includes('--production');
execFileSync(process.execPath, ['scripts/build-grammar.mjs'], { stdio: 'inherit' });
await esbuild.build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  external: ['vscode'],
  outfile: 'out/extension.js',
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
});
if (process.argv.includes('--tests')) {
  await esbuild.build({
    entryPoints: ['src/fileAssociation.ts', 'src/serverPath.ts', 'src/settings.ts', 'src/socTable.ts'],
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    outdir: 'out/lib',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}
