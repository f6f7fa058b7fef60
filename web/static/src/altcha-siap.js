// The ALTCHA widget's CSP-friendly build brings no worker and no words of its own: register the
// proof-of-work worker it solves the gateway's PBKDF2 challenges with (a file of this origin,
// named on the widget) and its words in Bahasa Indonesia. Runs after altcha.js (module order).
const WORDS = {
  ariaLinkLabel: 'ALTCHA',
  enterCode: 'Masukkan kode',
  enterCodeAria: 'Masukkan kode yang Anda dengar. Tekan Spasi untuk memutar audio.',
  error: 'Pemeriksaan gagal. Coba lagi sebentar lagi.',
  expired: 'Pemeriksaan kedaluwarsa. Coba lagi.',
  footer: '',
  getAudioChallenge: 'Dengarkan kode',
  label: 'Saya bukan robot',
  loading: 'Memuat…',
  reload: 'Muat ulang',
  verify: 'Periksa',
  verificationRequired: 'Tunggu pemeriksaan keamanan selesai, lalu kirim lagi.',
  verified: 'Pemeriksaan keamanan selesai',
  verifying: 'Memeriksa keamanan…',
  waitAlert: 'Memeriksa keamanan… mohon tunggu.',
  cancel: 'Batal',
  enterCodeFromImage: 'Untuk melanjutkan, masukkan kode pada gambar di bawah ini.',
};

const widget = document.querySelector('altcha-widget');
if (widget && globalThis.$altcha) {
  const worker = widget.dataset.worker;
  for (const algorithm of ['PBKDF2/SHA-256', 'PBKDF2/SHA-384', 'PBKDF2/SHA-512']) {
    globalThis.$altcha.algorithms.set(algorithm, () => new Worker(worker));
  }
  globalThis.$altcha.i18n.set('id', WORDS);
  customElements.whenDefined('altcha-widget').then(() => widget.configure({ hideFooter: true, hideLogo: true }));
}
