import test from 'node:test';
import assert from 'node:assert/strict';
import { readSettings, initializationOptions, estimateArguments, resolveArguments } from '../../out/lib/settings.mjs';

const from = (values) => readSettings((key) => values[key]);
const context = { homeDir: '/home/u', workspaceFolder: '/ws' };

test('defaults give empty initializationOptions: the server keeps its own defaults', () => {
  const settings = from({ socVersion: '', api: '', weights: '', manifest: '', importRoots: [], schemaMappings: [], docsLanguage: 'auto', estimatesIn: 'codeLens' });
  assert.deepEqual(initializationOptions(settings, context), {});
  assert.deepEqual(initializationOptions(from({}), context), {});
});

test('every server setting is passed under the name the server reads, paths made absolute', () => {
  const settings = from({
    socVersion: ' Ascend310P3 ', api: 'quant', weights: 'model/w.safetensors', manifest: '${workspaceFolder}/m.json',
    importRoots: ['protos', '/abs/protos', '', 42], docsLanguage: 'zh', estimatesIn: 'inlayHint',
    schemaMappings: [{ glob: '**/*.pbtxt', proto: 'protos/model.proto', message: 'pkg.Model' }, { glob: 'incomplete' }],
  });
  assert.deepEqual(initializationOptions(settings, context), {
    socVersion: 'Ascend310P3',
    api: 'quant',
    weights: '/ws/model/w.safetensors',
    manifest: '/ws/m.json',
    importRoots: ['/ws/protos', '/abs/protos'],
    schemaMappings: [{ glob: '**/*.pbtxt', proto: 'protos/model.proto', message: 'pkg.Model' }],
    docsLanguage: 'zh',
    estimatesIn: 'inlayHint',
  });
});

test('schemaMappings also accepts the object shape {glob: {proto, message}} (like the server)', () => {
  const settings = from({ schemaMappings: { '*.txtpb': { protoFile: 'a.proto', message: 'a.A' }, bad: 3 } });
  assert.deepEqual(settings.schemaMappings, [{ glob: '*.txtpb', proto: 'a.proto', message: 'a.A' }]);
});

test('estimate: needs amct.weights, passes manifest and SoC, asks for the text table', () => {
  assert.match(estimateArguments('/ws/quant.cfg', from({}), context).error, /set amct\.weights/);
  assert.deepEqual(estimateArguments('/ws/quant.cfg', from({ weights: 'w.safetensors', manifest: 'm.json', socVersion: 'Ascend910B2' }), context),
    ['--estimate', '/ws/quant.cfg', '--weights', '/ws/w.safetensors', '--manifest', '/ws/m.json', '--soc', 'Ascend910B2', '--format', 'text']);
});

test('resolve: layer, optional type, SoC and API', () => {
  assert.deepEqual(resolveArguments('/ws/q.cfg', 'layer1.0.conv1', from({ api: 'quant' }), 'Conv2d'),
    ['--resolve', '/ws/q.cfg', '--layer', 'layer1.0.conv1', '--type', 'Conv2d', '--api', 'quant', '--format', 'text']);
  assert.deepEqual(resolveArguments('/ws/q.cfg', 'fc', from({})), ['--resolve', '/ws/q.cfg', '--layer', 'fc', '--format', 'text']);
});
