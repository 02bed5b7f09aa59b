import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { languageFor, hasSchemaHeader, AMCT_FILENAME_PATTERNS, TEXTPROTO_EXTENSIONS, SCHEMA_HEADER_FIRST_LINE } from '../../out/lib/fileAssociation.mjs';

const manifest = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const language = (id) => manifest.contributes.languages.find((l) => l.id === id);

test('package.json declares the same rules as the code', () => {
  assert.deepEqual(language('amct-cfg').filenamePatterns, AMCT_FILENAME_PATTERNS);
  assert.equal(language('amct-cfg').firstLine, SCHEMA_HEADER_FIRST_LINE);
  assert.deepEqual(language('textproto').extensions, TEXTPROTO_EXTENSIONS);
  // Plain `.cfg` must not be claimed by extension: it belongs to many tools.
  assert.equal(language('amct-cfg').extensions, undefined);
});

test("AMCT's config names are amct-cfg", () => {
  for (const name of ['quant.cfg', '/a/b/quant.cfg', 'my_quant_v2.cfg', 'prune.cfg', 'compressed.cfg', 'compressed1.cfg',
    'retrain.cfg', 'distill.cfg', 'selective_prune.cfg', 'C:\\cfgs\\Quant.cfg']) {
    assert.equal(languageFor(name, ''), 'amct-cfg', name);
  }
});

test('other .cfg files are left alone unless their first line is a schema header', () => {
  for (const name of ['setup.cfg', 'tox.cfg', '/etc/x.cfg', 'quant.cfg.bak', 'quant.txt', 'quantcfg']) {
    assert.equal(languageFor(name, '[metadata]'), undefined, name);
  }
  assert.equal(languageFor('setup.cfg', '# proto-file: amct/retrain_config.proto'), 'amct-cfg');
  assert.equal(languageFor('x.cfg', '  #proto-message: AMCTRetrainConfig'), 'amct-cfg');
  assert.equal(languageFor('x.cfg', '# soc: Ascend310P3'), undefined);
  assert.equal(languageFor('x.cfg', 'a: 1 # proto-file: x.proto'), undefined);
  assert.ok(hasSchemaHeader('# proto-import: common.proto'));
  assert.ok(!hasSchemaHeader('# proto_file: x.proto'));
});

test('text format extensions are textproto, whatever the name', () => {
  for (const extension of ['.txtpb', '.textproto', '.textpb', '.pbtxt', '.prototxt']) {
    assert.equal(languageFor(`/d/quant${extension}`, ''), 'textproto', extension);
  }
  assert.equal(languageFor('model.proto', ''), undefined);
});
