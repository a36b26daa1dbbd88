// The page's language: texts are written in German and looked up in the catalogue the server put on the page
// (only the texts the scripts use, for the language it chose). "{name}" in a text is filled from `values`.
const element = document.getElementById("script-messages");
const messages = element ? JSON.parse(element.textContent) : {};

export const LANGUAGE = document.documentElement.lang || "de";
export const LOCALE = { de: "de-DE", en: "en-GB" }[LANGUAGE] || "de-DE";

export function t(text, values = {}) {
  const translated = Object.prototype.hasOwnProperty.call(messages, text) ? messages[text] : text;
  return translated.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
