// The results of a poll, on the viewer page, the moderator page, the presenter screen and the overlay.
import { el } from "../lib/dom.js";
import { formatCount, formatMean, formatPercent, votesText } from "../lib/format.js";
import { t, tn } from "../lib/i18n.js";
import { scaleEnds } from "./polls.js";

export function answersText(total) {
  return tn(total, t("1 Antwort"), t("{count} Antworten"), { count: formatCount(total) });
}

function bar(percent) {
  const fill = el("span", { class: "result-fill" });
  // CSSOM, not a style attribute: the Content-Security-Policy allows no inline styles.
  fill.style.width = `${Math.max(0, Math.min(100, Number(percent) || 0))}%`;
  return el("span", { class: "result-bar", "aria-hidden": "true" }, fill);
}

function resultRow(label, count, percent, { mine = false, leading = false } = {}) {
  return el("li", { class: "result-row" + (mine ? " is-mine" : "") + (leading ? " is-leading" : "") },
    el("span", { class: "result-head" },
      el("span", { class: "result-label" }, label,
        mine ? el("span", { class: "result-mine" }, " (", t("Ihre Wahl"), ")") : null,
        el("span", { class: "visually-hidden" }, ": ")),
      el("span", { class: "result-value" }, `${votesText(count, formatCount(count))} · ${formatPercent(percent)}`)),
    bar(percent));
}

/**
 * The results of a poll, or null when there are none to show. `mine` is this device's ballot (viewers), so
 * its choice is marked in words, not only by colour.
 */
export function renderResults(poll, { mine = null, heading = t("Ergebnis") } = {}) {
  const results = poll.results;
  if (!results) return null;
  const box = el("div", { class: "poll-results" },
    el("p", { class: "poll-total" },
      el("span", { class: "poll-results-heading" }, `${heading}: `),
      el("strong", {}, answersText(results.total))));
  if (poll.kind === "single" || poll.kind === "multiple") {
    const counts = (results.options || []).map((o) => o.count);
    const top = counts.length ? Math.max(...counts) : 0;
    const byId = new Map((results.options || []).map((o) => [o.id, o]));
    box.append(el("ul", { class: "result-list" }, poll.options.map((option) => {
      const result = byId.get(option.id) || { count: 0, percent: 0 };
      return resultRow(option.label, result.count, result.percent, {
        mine: Boolean(mine && mine.options && mine.options.includes(option.id)),
        leading: top > 0 && result.count === top,
      });
    })));
    if (poll.kind === "multiple" && results.total > 0) {
      box.append(el("p", { class: "hint" }, t("Mehrfachauswahl: Die Prozente beziehen sich auf alle Antworten und können zusammen über 100 % ergeben.")));
    }
  } else if (poll.kind === "rating") {
    const ends = scaleEnds(poll);
    box.append(el("p", { class: "poll-mean" },
      results.mean === null || results.mean === undefined
        ? t("Noch keine Bewertung.")
        : [el("span", {}, t("Durchschnitt"), " "), el("strong", {}, formatMean(results.mean)),
          el("span", {}, " (", t("Skala 1 bis {max}", { max: poll.scale_max }), ")")]));
    const top = Math.max(0, ...(results.values || []).map((v) => v.count));
    box.append(el("ul", { class: "result-list result-list-rating" }, (results.values || []).map((value) => {
      const label = value.value === 1 ? ends.low : value.value === poll.scale_max ? ends.high : String(value.value);
      return resultRow(label, value.count, value.percent, {
        mine: Boolean(mine && mine.value === value.value), leading: top > 0 && value.count === top,
      });
    })));
  } else if (poll.kind === "words") {
    const words = results.words || [];
    if (!words.length) {
      box.append(el("p", { class: "empty" }, t("Noch keine Wörter.")));
    } else {
      const top = Math.max(...words.map((w) => w.count));
      box.append(el("ul", { class: "word-cloud", "aria-label": t("Genannte Wörter, die häufigsten zuerst") },
        words.map((word) => {
          // Five sizes; the count is always written next to the word as well.
          const size = 1 + Math.round((4 * (word.count - 1)) / Math.max(1, top - 1));
          // Grouped without regard to case: "wlan" of mine is the cloud's "WLAN".
          const fold = (text) => (text || "").toLocaleLowerCase();
          const isMine = Boolean(mine && (mine.words || [mine.text]).some((w) => fold(w) === fold(word.text)));
          return el("li", { class: `word word-size-${size}` + (isMine ? " is-mine" : "") },
            el("span", { class: "word-text" }, word.text),
            el("span", { class: "word-count" }, formatCount(word.count),
              el("span", { class: "visually-hidden" }, " ", tn(word.count, t("Nennung"), t("Nennungen")))),
            isMine ? el("span", { class: "visually-hidden" }, " (", t("Ihr Wort"), ")") : null);
        })));
    }
  }
  return box;
}
