// The cascading area picker: province, then regency or city, district and village, each list
// read from this site (/wilayah.json?induk=, which asks the gateway's area reference). Without
// JavaScript the field stays a text box taking a code or a name; so it does again if a list
// cannot be read.
const LEVELS = ['Provinsi', 'Kabupaten/kota', 'Kecamatan', 'Desa/kelurahan'];
const CODE = /^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$/;

async function areasBelow(source, induk) {
  const url = new URL(source, window.location.href);
  if (induk) url.searchParams.set('induk', induk);
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// `areas` null: the level above is not chosen yet.
function fill(select, areas, level) {
  const empty = areas === null ? `— pilih ${LEVELS[level - 1].toLowerCase()} dulu —` : '— tidak ada —';
  select.replaceChildren(new Option(areas && areas.length ? '— pilih —' : empty, ''));
  for (const area of areas || []) select.append(new Option(area.nama, area.kode));
  select.disabled = !areas || areas.length === 0;
}

function setUp(picker) {
  const input = picker.querySelector('input[name="kode_wilayah"]');
  const label = picker.querySelector(`label[for="${input.id}"]`);
  const hint = picker.querySelector('.hint');
  const error = picker.querySelector('.field-error');
  const typed = input.value.trim();
  const source = picker.dataset.source;

  const group = document.createElement('fieldset');
  group.className = 'area-levels';
  const legend = document.createElement('legend');
  legend.innerHTML = label.innerHTML;
  group.append(legend);
  const selects = LEVELS.map((name, level) => {
    const field = document.createElement('div');
    field.className = 'field';
    const select = document.createElement('select');
    select.id = `${input.id}-${level}`;
    select.disabled = level > 0;
    select.append(new Option('— pilih —', ''));
    const text = document.createElement('label');
    text.htmlFor = select.id;
    text.textContent = name;
    field.append(text, select);
    group.append(field);
    return select;
  });
  if (input.required) selects[0].required = true;
  if (error) {
    selects[0].setAttribute('aria-describedby', error.id);
    selects[0].setAttribute('aria-invalid', 'true');
  }

  const fallBack = () => {
    group.remove();
    label.hidden = false;
    hint.hidden = false;
    input.type = 'text';
    input.value = typed;
  };

  // A choice made while the list of an earlier one is still on its way wins: the earlier list,
  // arriving late, is dropped.
  let latest = 0;
  async function choose(level, kode) {
    const mine = ++latest;
    selects[level].value = kode;
    input.value = kode || (level > 0 ? selects[level - 1].value : '');
    for (let below = level + 1; below < selects.length; below += 1) fill(selects[below], null, below);
    if (!kode || level + 1 === selects.length) return;
    const areas = await areasBelow(source, kode);
    if (mine === latest) fill(selects[level + 1], areas, level + 1);
  }

  selects.forEach((select, level) => {
    select.addEventListener('change', () => choose(level, select.value).catch(fallBack));
  });

  label.hidden = true;
  hint.hidden = true;
  input.type = 'hidden';
  picker.insertBefore(group, input);

  (async () => {
    fill(selects[0], await areasBelow(source, null), 0);
    selects.forEach((select, level) => level > 0 && fill(select, null, level));
    if (!CODE.test(typed)) return;
    const parts = typed.split('.');
    for (let level = 0; level < parts.length; level += 1) {
      await choose(level, parts.slice(0, level + 1).join('.'));
    }
  })().catch(fallBack);
}

for (const picker of document.querySelectorAll('[data-area-picker]')) setUp(picker);
