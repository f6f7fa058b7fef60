// The schedule form: only the fields of the kind chosen show. Without JavaScript every kind's
// fields show, each under its heading, and the server takes the chosen kind's alone.
const form = document.querySelector('[data-jenis-form]');
const kinds = form ? form.querySelectorAll('input[name="jenis"]') : [];

function showChosen() {
  const chosen = form.querySelector('input[name="jenis"]:checked')?.value;
  for (const fields of form.querySelectorAll('[data-jenis]')) fields.hidden = fields.dataset.jenis !== chosen;
}

if (kinds.length) {
  for (const kind of kinds) kind.addEventListener('change', showChosen);
  showChosen();
}
