// Numbers as the page's language writes them ("3,6" and "33,3 %" in German), whatever the browser, and the counted
// words that appear on several pages.
import { LOCALE, t, tn } from "./i18n.js";

const decimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

export function formatCount(count) {
  return whole.format(count);
}

export function formatPercent(percent) {
  return `${decimal.format(percent)}\u00a0%`;
}

export function formatMean(mean) {
  return new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(mean);
}

/** "1 Stimme", "12 Stimmen". `shown` is the count as written in the text (poll results write it formatted). */
export function votesText(count, shown = count) {
  return tn(count, t("1 Stimme"), t("{count} Stimmen"), { count: shown });
}
