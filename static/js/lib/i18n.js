// The page's language: texts are written in German and looked up in the catalogue the server put on the page
// (only the texts the scripts use, for the language it chose). "{name}" in a text is filled from `values`.
const element = document.getElementById("script-messages");
const messages = element ? JSON.parse(element.textContent) : {};

export const LANGUAGE = document.documentElement.lang || "de";
export const LOCALE = { de: "de-DE", en: "en-GB" }[LANGUAGE] || "de-DE";

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function t(text, values = {}) {
  return fill(Object.prototype.hasOwnProperty.call(messages, text) ? messages[text] : text, values);
}

const pluralRules = new Intl.PluralRules(LOCALE);

/**
 * A text about a number of things, in the form the number asks for in the page's language, as in
 *   tn(count, t("1 Stimme"), t("{count} Stimmen"))
 * Each form is marked with t() where it is written, so `pybabel extract -k t` finds both (and the server puts
 * both on the page); `{count}` is filled here, with `values.count` if given (a formatted number, say).
 */
export function tn(count, one, other, values = {}) {
  return fill(pluralRules.select(count) === "one" ? one : other, { count, ...values });
}
