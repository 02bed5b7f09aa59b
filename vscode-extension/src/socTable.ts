// The SoC list for the "Select SoC version" quick pick, read from the server's own
// capability table (data/soc_capabilities.tsv, shipped in the extension).

export interface SocChoice {
  name: string;
  series: string;  // display name of its series ('' when no pattern matches)
  int4: boolean;
  sparsity42: boolean;
}

export function parseSocTable(tsv: string): SocChoice[] {
  const series = new Map<string, { display: string; int4: boolean; sparsity42: boolean }>();
  const patterns: { pattern: string; series: string }[] = [];
  const known: string[] = [];
  for (const line of tsv.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const cells = line.split('\t').map((cell) => cell.trim());
    if (cells[0] === 'series' && cells.length >= 6) {
      series.set(cells[1], { display: cells[5], int4: cells[2] === 'yes', sparsity42: cells[4] === 'yes' });
    } else if (cells[0] === 'soc' && cells.length >= 3) {
      patterns.push({ pattern: cells[1], series: cells[2] });
    } else if (cells[0] === 'known' && cells.length >= 2) {
      known.push(cells[1]);
    }
  }
  // The table's rule: an exact pattern beats a prefix; a longer prefix beats a shorter one.
  const seriesOf = (name: string) => {
    let best: { pattern: string; series: string } | undefined;
    let bestScore = -1;
    for (const entry of patterns) {
      const prefix = entry.pattern.endsWith('*');
      const stem = prefix ? entry.pattern.slice(0, -1) : entry.pattern;
      const matches = prefix ? name.startsWith(stem) : name === stem;
      const score = prefix ? stem.length : Number.MAX_SAFE_INTEGER;
      if (matches && score > bestScore) [best, bestScore] = [entry, score];
    }
    return best ? series.get(best.series) : undefined;
  };
  return known.map((name) => {
    const s = seriesOf(name);
    return { name, series: s?.display ?? '', int4: s?.int4 ?? false, sparsity42: s?.sparsity42 ?? false };
  });
}
