// The index's chart, drawn with uPlot from the table below it (the table is the accessible
// alternative and holds the figures): each area's average trust as a horizontal bar. Areas
// whose average is withheld are left out of the chart, as the caption says.
(function () {
  const figure = document.querySelector('[data-chart]');
  if (!figure || typeof uPlot === 'undefined') return;
  const rows = [...document.querySelectorAll(`#${figure.dataset.chart} tbody tr`)]
    .filter((row) => row.dataset.value !== '');
  if (rows.length === 0) return;
  const labels = rows.map((row) => row.dataset.label);
  const values = rows.map((row) => Number(row.dataset.value));
  const canvas = figure.querySelector('.chart-canvas');
  figure.hidden = false;
  const style = getComputedStyle(document.documentElement);
  const bar = style.getPropertyValue('--chart-bar').trim() || '#1d4ed8';
  const ink = style.getPropertyValue('--ink').trim() || '#111827';
  const options = {
    width: canvas.clientWidth,
    height: rows.length * 34 + 48,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, ori: 1, dir: -1, range: [-0.5, rows.length - 0.5] },  // the table's order, top down
      y: { ori: 0, dir: 1, range: [0, 5] },
    },
    axes: [
      { side: 3, stroke: ink, grid: { show: false }, ticks: { show: false }, size: 120,
        splits: () => labels.map((_, index) => index), values: () => labels, gap: 6 },
      { side: 0, stroke: ink, splits: () => [1, 2, 3, 4, 5], values: (u, splits) => splits.map(String) },
    ],
    series: [
      {},
      { label: 'Kepercayaan', fill: bar, stroke: bar, points: { show: false },
        paths: uPlot.paths.bars({ size: [0.7, 28], align: 0 }) },
    ],
  };
  const chart = new uPlot(options, [labels.map((_, index) => index), values], canvas);
  window.addEventListener('resize', () => chart.setSize({ width: canvas.clientWidth, height: options.height }));
}());
