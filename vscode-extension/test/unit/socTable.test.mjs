import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseSocTable } from '../../out/lib/socTable.mjs';

test("the SoC quick pick lists the server's known SoCs with their series", () => {
  const socs = parseSocTable(fs.readFileSync(new URL('../../../data/soc_capabilities.tsv', import.meta.url), 'utf8'));
  const byName = Object.fromEntries(socs.map((s) => [s.name, s]));
  assert.ok(socs.length >= 10);
  assert.deepEqual(byName.Ascend310P3, { name: 'Ascend310P3', series: 'Atlas inference series', int4: true, sparsity42: false });
  assert.equal(byName.Ascend910B2.series, 'Atlas A2 training/inference series');
  assert.equal(byName.Ascend910B2.sparsity42, true);
  // An exact pattern beats a prefix: Ascend910 is the training series, not an A2 prefix match.
  assert.equal(byName.Ascend910.series, 'Atlas training series');
  assert.ok(socs.every((s) => s.series !== ''), 'every known SoC matches a pattern');
});
