// TextMate grammar fixtures generated from the tree-sitter corpus.
//
// Every test of grammar/test/corpus/*.txt that is not an `:error` test becomes one
// fixture file test/grammar/fixtures/<corpus file>/<NN>-<name>.txtpb for
// vscode-tmgrammar-test. Its assertions are what grammar/queries/highlights.scm
// captures on that input (run through the tree-sitter CLI), mapped to the TextMate
// scope the grammar gives the same construct: so the fixtures pass exactly when the
// TextMate grammar agrees with the tree-sitter highlights.
//
//   node test/grammar/fixtures.mjs generate   rewrite the fixtures (needs the CLI)
//   node test/grammar/fixtures.mjs check      fail when a corpus test has no fixture, or
//                                             (CLI available) a fixture is out of date
//
// Where a line-based TextMate grammar cannot follow the tree (a construct split over
// lines by comments, or a syntax error that tree-sitter recovers from in its own way),
// known-differences.json lists the corpus input line (1-based) left without assertions, and why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const corpusDir = path.join(repo, 'grammar/test/corpus');
const fixturesDir = path.join(here, 'fixtures');
const knownDifferences = JSON.parse(fs.readFileSync(path.join(here, 'known-differences.json'), 'utf8'));

/** Parses tree-sitter's corpus format into [{file, index, name, attributes, input}]. */
export function readCorpus() {
  const tests = [];
  for (const file of fs.readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort()) {
    const lines = fs.readFileSync(path.join(corpusDir, file), 'utf8').split('\n');
    let i = 0;
    let index = 0;
    while (i < lines.length) {
      if (!/^={3,}$/.test(lines[i])) { i++; continue; }
      const name = lines[i + 1];
      const attributes = [];
      i += 2;
      while (i < lines.length && !/^={3,}$/.test(lines[i])) attributes.push(lines[i++].trim());
      i++;
      const input = [];
      while (i < lines.length && !/^-{3,}$/.test(lines[i])) input.push(lines[i++]);
      // tree-sitter drops the newline before the dashes.
      tests.push({ file: file.replace(/\.txt$/, ''), index: ++index, name, attributes, input: input.join('\n') });
    }
  }
  return tests;
}

export function fixtureName(test) {
  const slug = test.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return path.join(test.file, `${String(test.index).padStart(2, '0')}-${slug}.txtpb`);
}

function treeSitterCli() {
  const candidates = [process.env.TREE_SITTER, path.join(repo, '../shared/tools/tree-sitter'),
    path.join(repo, '../../shared/tools/tree-sitter')].filter(Boolean);
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch { /* next */ }
  }
  return null;
}

/** Runs highlights.scm over every input in one CLI call: {inputPath: [capture]}. */
function captures(cli, inputs) {
  const output = execFileSync(cli, ['query', 'queries/highlights.scm', ...inputs],
    { cwd: path.join(repo, 'grammar'), encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const result = {};
  let current = null;
  for (const line of output.split('\n')) {
    if (inputs.includes(line.trim())) { current = result[line.trim()] = []; continue; }
    const m = /capture: \d+ - ([\w.]+), start: \((\d+), (\d+)\), end: \((\d+), (\d+)\)/.exec(line);
    if (m && current) current.push({ name: m[1], row: +m[2], start: +m[3], endRow: +m[4], end: +m[5] });
  }
  return result;
}

/** The TextMate scope the grammar gives what highlights.scm captures as `name`. */
export function scopeFor(name, text) {
  switch (name) {
    case 'comment': return 'comment.line.number-sign.textproto';
    case 'keyword.directive': return 'keyword.other.directive.textproto';
    case 'string.special': return 'string.unquoted.header-value.textproto';
    case 'property': return 'variable.other.property.textproto';
    case 'type': return 'entity.name.type.textproto';
    case 'string.special.url': return 'markup.underline.link.textproto';
    case 'string': return text.startsWith("'") ? 'string.quoted.single.textproto' : 'string.quoted.double.textproto';
    case 'string.escape': return 'constant.character.escape.textproto';
    case 'number': return 'constant.numeric.integer.textproto';
    case 'number.float': return 'constant.numeric.float.textproto';
    case 'operator': return 'keyword.operator.arithmetic.textproto';
    case 'boolean': return 'constant.language.boolean.textproto';
    case 'constant.builtin': return 'constant.language.numeric.textproto';
    case 'constant': return 'constant.other.enum.textproto';
    case 'punctuation.bracket':
      return {
        '{': 'punctuation.section.braces.begin.textproto', '}': 'punctuation.section.braces.end.textproto',
        '<': 'punctuation.section.angle-brackets.begin.textproto', '>': 'punctuation.section.angle-brackets.end.textproto',
        '[': 'punctuation.section.brackets.begin.textproto', ']': 'punctuation.section.brackets.end.textproto',
      }[text];
    case 'punctuation.delimiter':
      return {
        ':': 'punctuation.separator.key-value.textproto', ',': 'punctuation.separator.comma.textproto',
        ';': 'punctuation.separator.semicolon.textproto', '.': 'punctuation.accessor.textproto',
        '/': 'punctuation.separator.slash.textproto',
      }[text];
    default: throw new Error(`highlights.scm capture @${name} has no TextMate scope in fixtures.mjs`);
  }
}

const utf16Column = (line, byteColumn) => Buffer.from(line, 'utf8').subarray(0, byteColumn).toString('utf8').length;

/** The fixture text of one corpus test, given the captures of its input. */
export function fixtureText(test, testCaptures) {
  const lines = test.input.split('\n');
  // Innermost capture per UTF-16 column of each line: later (inner) captures overwrite.
  const scopes = lines.map((line) => new Array(line.length).fill(null));
  const skipped = knownDifferences.filter((d) => d.test === `${test.file}: ${test.name}`);
  const sorted = [...testCaptures].sort((a, b) => a.row - b.row || a.start - b.start || b.end - a.end);
  for (const c of sorted) {
    if (c.row !== c.endRow) continue;  // a capture over lines (`-` newline `2.5`): no single-line token
    if (skipped.some((d) => d.line === c.row + 1)) continue;
    const line = lines[c.row];
    const bytes = Buffer.from(line, 'utf8');
    const text = bytes.subarray(c.start, c.end).toString('utf8');
    const scope = scopeFor(c.name, text);
    const from = utf16Column(line, c.start);
    const to = utf16Column(line, c.end);
    for (let col = from; col < to; col++) if (!/\s/.test(line[col])) scopes[c.row][col] = scope;
  }
  const out = [`# SYNTAX TEST "source.textproto" "corpus ${test.file}.txt: ${test.name}"`];
  lines.forEach((line, row) => {
    out.push(line);
    const runs = [];
    for (let col = 0; col < line.length; col++) {
      const scope = scopes[row][col];
      if (!scope) continue;
      const last = runs[runs.length - 1];
      if (last && last.scope === scope && last.end === col) last.end = col + 1;
      else runs.push({ scope, start: col, end: col + 1 });
    }
    for (const run of runs) {
      if (run.start === 0) {
        out.push(`# <- ${run.scope}`);
        if (run.end > 1) out.push(`#${' '.repeat(0)}${'^'.repeat(run.end - 1)} ${run.scope}`);
      } else {
        out.push(`#${' '.repeat(run.start - 1)}${'^'.repeat(run.end - run.start)} ${run.scope}`);
      }
    }
  });
  return out.join('\n') + '\n';
}

function generateAll(cli) {
  const tests = readCorpus().filter((t) => !t.attributes.includes(':error'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'amct-tm-'));
  const inputs = tests.map((t, i) => {
    const p = path.join(tmp, `${i}.txtpb`);
    fs.writeFileSync(p, t.input);
    return p;
  });
  const all = captures(cli, inputs);
  const files = new Map(tests.map((t, i) => [fixtureName(t), fixtureText(t, all[inputs[i]] ?? [])]));
  fs.rmSync(tmp, { recursive: true, force: true });
  return files;
}

function listFixtures() {
  if (!fs.existsSync(fixturesDir)) return [];
  return fs.readdirSync(fixturesDir, { recursive: true }).filter((f) => f.endsWith('.txtpb')).map(String).sort();
}

function main(mode) {
  const expectedNames = readCorpus().filter((t) => !t.attributes.includes(':error')).map(fixtureName).sort();
  const cli = treeSitterCli();
  if (mode === 'generate') {
    if (!cli) throw new Error('the tree-sitter CLI is needed to generate fixtures (TREE_SITTER=...)');
    fs.rmSync(fixturesDir, { recursive: true, force: true });
    for (const [name, text] of generateAll(cli)) {
      fs.mkdirSync(path.dirname(path.join(fixturesDir, name)), { recursive: true });
      fs.writeFileSync(path.join(fixturesDir, name), text);
    }
    console.log(`wrote ${expectedNames.length} fixtures to ${path.relative(process.cwd(), fixturesDir)}`);
    return 0;
  }
  const present = listFixtures();
  const missing = expectedNames.filter((n) => !present.includes(n));
  const extra = present.filter((n) => !expectedNames.includes(n));
  for (const n of missing) console.error(`missing fixture for corpus test: ${n}`);
  for (const n of extra) console.error(`fixture without a corpus test: ${n}`);
  let status = missing.length || extra.length ? 1 : 0;
  if (!cli) {
    console.log('NOTICE: tree-sitter CLI not available; fixtures checked for coverage only, not regenerated');
  } else {
    for (const [name, text] of generateAll(cli)) {
      const file = path.join(fixturesDir, name);
      if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') !== text) {
        console.error(`out of date with highlights.scm: test/grammar/fixtures/${name} (run: node test/grammar/fixtures.mjs generate)`);
        status = 1;
      }
    }
  }
  if (status === 0) console.log(`${expectedNames.length} corpus tests have an up-to-date TextMate fixture`);
  return status;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(main(process.argv[2] ?? 'check'));
