// The summary page's one piece of script: a print button (the CSP forbids inline handlers). Without script the
// button stays hidden; the browser's own print command prints the page just as well.
const button = document.querySelector("[data-print]");
if (button) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
