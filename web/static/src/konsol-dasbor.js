// The console's dashboard (web/templates/konsol/beranda.html). Its tables hold the figures and are
// the accessible alternative: each trend chart (uPlot, loaded before this module) is drawn from
// its table's cells (data-value, the columns marked data-seri), and the per-area table is sorted
// here when a column's heading is pressed, its bars redrawn for the figure it is sorted by.
// Without JavaScript the tables show in the server's order, the bars of their first figure.

const HEIGHT = 220;
const LABEL_WIDTH = 44;  // px a month's name needs under the chart
// Steps between the ticks of a count's axis: whole numbers only.
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

const valueOf = (cell) => (cell.dataset.value === '' ? null : Number(cell.dataset.value));
const cssVariable = (element, name, fallback) => getComputedStyle(element).getPropertyValue(name).trim() || fallback;

function countRange(u, min, max) {
  return [0, Math.max(1, max)];
}

function drawTrend(figure) {
  const table = document.getElementById(figure.dataset.grafik);
  const rows = [...table.tBodies[0].rows];
  const charted = [...table.tHead.rows[0].cells].filter((th) => th.dataset.seri);
  const canvas = figure.querySelector('.chart-canvas');
  const ink = cssVariable(document.documentElement, '--ink', '#111827');
  const labels = rows.map((row) => row.cells[0].dataset.label.split(' '));  // [month, year]
  const fixed = figure.dataset.rentang ? figure.dataset.rentang.split(' ').map(Number) : null;
  const right = charted.some((th) => th.dataset.sumbu === 'kanan');

  const shownEvery = () => Math.max(1, Math.ceil(rows.length / Math.max(1, Math.floor(canvas.clientWidth / LABEL_WIDTH))));
  const monthAxis = {
    stroke: ink, grid: { show: false }, gap: 4, size: 44,
    splits: () => rows.map((_, index) => index).filter((index) => index % shownEvery() === 0),
    values: (u, splits) => splits.map((index) => {
      const [month, year] = labels[index];
      return index === 0 || month === 'Jan' ? `${month}\n${year}` : month;
    }),
  };
  const valueAxis = (scale, side) => ({
    scale, side, stroke: ink, size: 44, grid: { show: side === 3 },
    ...(scale === 'kiri' && fixed ? {} : { incrs: WHOLE_STEPS }),
  });
  const options = {
    width: canvas.clientWidth,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, range: [-0.5, rows.length - 0.5] },
      kiri: { range: fixed || countRange },
      kanan: { range: countRange },
    },
    axes: [monthAxis, valueAxis('kiri', 3), ...(right ? [valueAxis('kanan', 1)] : [])],
    series: [{}, ...charted.map((th) => {
      const colour = cssVariable(figure, `--seri-${th.dataset.seri}`, ink);
      return {
        label: th.textContent, scale: th.dataset.sumbu || 'kiri', stroke: colour, width: 2, spanGaps: false,
        dash: th.dataset.seri === '1' ? undefined : [6, 4], points: { show: true, size: 7, fill: colour },
      };
    })],
  };
  const data = [rows.map((_, index) => index), ...charted.map((th) => rows.map((row) => valueOf(row.cells[th.cellIndex])))];
  const chart = new uPlot(options, data, canvas);
  window.addEventListener('resize', () => chart.setSize({ width: canvas.clientWidth, height: HEIGHT }));
}

// The per-area table: a button in each column's heading sorts the rows (numbers largest first,
// names A to Z, pressed again the other way round); aria-sort says how, a live region says it aloud.
function sortable(table) {
  const headings = [...table.tHead.rows[0].cells];
  const status = document.getElementById(table.dataset.urutStatus);
  const bars = document.querySelector(`[data-batang="${table.id}"]`);
  let measured = headings.find((th) => th.dataset.urut === 'angka');

  function drawBars() {
    const list = bars.querySelector('.batang-daftar');
    const items = new Map([...list.children].map((item) => [item.dataset.kode, item]));
    const rows = [...table.tBodies[0].rows];
    const top = Math.max(0, ...rows.map((row) => valueOf(row.cells[measured.cellIndex]) || 0));
    for (const row of rows) {
      const item = items.get(row.dataset.kode);
      const cell = row.cells[measured.cellIndex];
      item.querySelector('rect').setAttribute('width', top ? (100 * (valueOf(cell) || 0)) / top : 0);
      item.querySelector('.batang-angka').textContent = cell.textContent.trim();
      list.append(item);
    }
    bars.querySelector('[data-ukuran]').textContent = measured.textContent.trim();
  }

  function sortBy(th) {
    const numbers = th.dataset.urut === 'angka';
    const current = th.getAttribute('aria-sort');
    const ascending = current ? current === 'descending' : !numbers;
    const key = (row) => (numbers ? valueOf(row.cells[th.cellIndex]) : row.cells[th.cellIndex].textContent.trim());
    const rows = [...table.tBodies[0].rows].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (x === null || y === null) return (x === null) - (y === null);  // no figure: last either way
      const order = numbers ? x - y : x.localeCompare(y, 'id');
      return ascending ? order : -order;
    });
    table.tBodies[0].append(...rows);
    for (const heading of headings) heading.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    if (numbers) measured = th;
    if (bars) drawBars();
    const way = numbers ? (ascending ? 'terkecil dulu' : 'terbesar dulu') : (ascending ? 'A sampai Z' : 'Z sampai A');
    status.textContent = `Diurutkan menurut ${th.textContent.trim()}, ${way}.`;
  }

  for (const th of headings) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'urut';
    button.append(...th.childNodes);
    th.append(button);
    button.addEventListener('click', () => sortBy(th));
  }
}

if (typeof uPlot !== 'undefined') {
  for (const figure of document.querySelectorAll('[data-grafik]')) drawTrend(figure);
}
for (const table of document.querySelectorAll('table[data-urut-status]')) sortable(table);
