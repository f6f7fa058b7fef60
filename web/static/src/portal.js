// Small behaviours of every page, none needed for the page to work: an error summary takes the
// focus so that a screen reader reads it first, and a receipt gets a print button.
const summary = document.querySelector('[data-focus]');
if (summary) summary.focus();

for (const button of document.querySelectorAll('[data-print]')) {
  button.hidden = false;
  button.addEventListener('click', () => window.print());
}
