import test from 'node:test';
import assert from 'node:assert/strict';
import { resolveServerPath, bundledServerPath, expandPath } from '../../out/lib/serverPath.mjs';

const base = {
  configured: '',
  extensionPath: '/ext',
  platform: 'linux',
  arch: 'x64',
  homeDir: '/home/u',
  workspaceFolder: '/ws',
  pathEnv: '/usr/local/bin:/usr/bin',
};
const only = (...files) => (file) => files.includes(file);

test('the setting wins over the bundled binary and PATH', () => {
  const result = resolveServerPath({ ...base, configured: '/opt/amct/bin/amct-lsp',
    isExecutable: only('/opt/amct/bin/amct-lsp', '/ext/server/linux-x64/amct-lsp', '/usr/bin/amct-lsp') });
  assert.deepEqual(result, { path: '/opt/amct/bin/amct-lsp', source: 'setting' });
});

test('a configured path that does not exist is an error, not a silent fallback', () => {
  const result = resolveServerPath({ ...base, configured: '/nowhere/amct-lsp', isExecutable: only('/ext/server/linux-x64/amct-lsp') });
  assert.match(result.error, /amct\.server\.path is '\/nowhere\/amct-lsp'/);
});

test('the setting expands ~, ${userHome} and ${workspaceFolder}, and relative paths resolve against the workspace', () => {
  for (const [configured, expected] of [['~/bin/amct-lsp', '/home/u/bin/amct-lsp'], ['${userHome}/bin/amct-lsp', '/home/u/bin/amct-lsp'],
    ['${workspaceFolder}/build/amct-lsp', '/ws/build/amct-lsp'], ['build/amct-lsp', '/ws/build/amct-lsp']]) {
    const result = resolveServerPath({ ...base, configured, isExecutable: only(expected) });
    assert.deepEqual(result, { path: expected, source: 'setting' }, configured);
  }
  assert.equal(expandPath('  ~/x ', '/h'), '/h/x');
});

test('a bare name in the setting is looked up on PATH', () => {
  const result = resolveServerPath({ ...base, configured: 'amct-lsp-dev', isExecutable: only('/usr/bin/amct-lsp-dev') });
  assert.deepEqual(result, { path: '/usr/bin/amct-lsp-dev', source: 'setting' });
});

test('without a setting: the bundled binary of this platform, then PATH', () => {
  assert.equal(bundledServerPath('/ext', 'linux', 'x64'), '/ext/server/linux-x64/amct-lsp');
  assert.deepEqual(resolveServerPath({ ...base, isExecutable: only('/ext/server/linux-x64/amct-lsp', '/usr/bin/amct-lsp') }),
    { path: '/ext/server/linux-x64/amct-lsp', source: 'bundled' });
  // A bundled binary of another platform is not used.
  assert.deepEqual(resolveServerPath({ ...base, arch: 'arm64', isExecutable: only('/ext/server/linux-x64/amct-lsp', '/usr/bin/amct-lsp') }),
    { path: '/usr/bin/amct-lsp', source: 'PATH' });
  // PATH order is respected.
  assert.deepEqual(resolveServerPath({ ...base, isExecutable: only('/usr/local/bin/amct-lsp', '/usr/bin/amct-lsp') }),
    { path: '/usr/local/bin/amct-lsp', source: 'PATH' });
});

test('nothing found: an error that says what to do', () => {
  const result = resolveServerPath({ ...base, isExecutable: () => false });
  assert.match(result.error, /none is bundled for linux-x64 and none is on PATH; set amct\.server\.path/);
});
