// Live polls shared by the viewer and moderator pages: a store kept in step with the live messages, German
// labels and number formats, the results view (both pages) and the answer controls (viewer page).
import { LOCALE, t } from "../lib/i18n.js";
import { MessageType } from "../lib/protocol.js";
import { el } from "./questions.js";

export const KIND_LABELS = Object.freeze({
  single: t("Einfachauswahl"),
  multiple: t("Mehrfachauswahl"),
  rating: t("Bewertung"),
  words: t("Wortwolke"),
});

export const STATE_LABELS = Object.freeze({ draft: t("Entwurf"), open: t("Läuft"), closed: t("Beendet") });

export const VISIBILITY_LABELS = Object.freeze({ live: t("live"), after_close: t("nach dem Ende"), never: t("nie") });

export const MAX_WORD = 40;
export const CHOICE_KINDS = Object.freeze(["single", "multiple"]);

// Numbers are written the way the page's language writes them ("3,6" and "33,3 %" in German), whatever the browser.
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

export function answersText(total) {
  return total === 1 ? t("1 Antwort") : t("{count} Antworten", { count: formatCount(total) });
}

function votesText(count) {
  return count === 1 ? t("1 Stimme") : t("{count} Stimmen", { count: formatCount(count) });
}

export class PollStore {
  constructor({ staff = false } = {}) {
    this.staff = staff;
    this.polls = new Map();
  }

  /** Applies a live message; true when it was about polls (a snapshot is about everything). */
  apply(message) {
    switch (message.type) {
      case MessageType.SNAPSHOT:
        this.polls = new Map();
        for (const poll of message.polls || []) this.upsert(poll);
        return true;
      case MessageType.POLL:
        this.upsert(message.poll);
        return true;
      case MessageType.POLL_DELETED:
        this.polls.delete(message.poll_id);
        return true;
      case MessageType.POLL_RESULTS: {
        const poll = this.polls.get(message.poll_id);
        if (poll) poll.results = message.results;
        return true;
      }
      default:
        return false;
    }
  }

  upsert(poll) {
    // Viewers never see drafts; a poll that goes back to draft was reset, and its ballots with it.
    if (!this.staff && poll.state === "draft") {
      this.polls.delete(poll.id);
      return;
    }
    const known = this.polls.get(poll.id);
    // An HTTP answer can arrive after the live message of a later change; the older state must not win.
    if (known && typeof poll.version === "number" && poll.version < known.version) return;
    const next = { ...poll };
    // A logged change is the same for every viewer, so it carries no `my_ballot`: keep the one we know.
    if (!("my_ballot" in poll)) next.my_ballot = (known && known.my_ballot) || null;
    if (!("results" in poll)) {
      // Viewers: no results in the message means they may not see them (any more). Moderators always may;
      // their poll_results message follows.
      next.results = this.staff && known && poll.state !== "draft" ? known.results || null : null;
    }
    this.polls.set(poll.id, next);
  }

  /** Moves a poll to 1-based `position` and renumbers the others, as the server does (moderators see all). */
  move(pollId, position) {
    const order = this.list();
    const index = order.findIndex((poll) => poll.id === pollId);
    if (index < 0) return;
    const [poll] = order.splice(index, 1);
    order.splice(Math.min(Math.max(position, 1), order.length + 1) - 1, 0, poll);
    order.forEach((item, i) => {
      item.position = i + 1;
    });
  }

  setBallot(pollId, ballot) {
    const poll = this.polls.get(pollId);
    if (poll) poll.my_ballot = ballot;
  }

  get(pollId) {
    return this.polls.get(pollId) || null;
  }

  list() {
    return [...this.polls.values()].sort((a, b) => a.position - b.position || a.id - b.id);
  }
}

/** Short text of a ballot: "Online-Terminvergabe, Bürgerbüro", "4 von 5" or „wlan“. */
export function describeBallot(poll, ballot) {
  if (!ballot) return "";
  if (ballot.options) {
    return poll.options.filter((o) => ballot.options.includes(o.id)).map((o) => o.label).join(", ");
  }
  if (ballot.value !== undefined && ballot.value !== null) {
    return t("{value} von {max}", { value: ballot.value, max: poll.scale_max });
  }
  return `„${ballot.text}“`;
}

export function scaleEnds(poll) {
  return { low: t("1 = gar nicht"), high: t("{max} = sehr", { max: poll.scale_max }) };
}

// ---------------------------------------------------------------- results

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
      el("span", { class: "result-value" }, `${votesText(count)} · ${formatPercent(percent)}`)),
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
          const isMine = Boolean(mine && mine.text === word.text);
          return el("li", { class: `word word-size-${size}` + (isMine ? " is-mine" : "") },
            el("span", { class: "word-text" }, word.text),
            el("span", { class: "word-count" }, formatCount(word.count),
              el("span", { class: "visually-hidden" }, " ", word.count === 1 ? t("Nennung") : t("Nennungen"))),
            isMine ? el("span", { class: "visually-hidden" }, " (", t("Ihr Wort"), ")") : null);
        })));
    }
  }
  return box;
}

// ---------------------------------------------------------------- answering (viewer page)

function ids(poll) {
  const base = `poll-${poll.id}`;
  return { title: `${base}-title`, hint: `${base}-hint`, ends: `${base}-ends`, word: `${base}-word`, count: `${base}-count` };
}

/**
 * The answer controls of an open poll. `draft` holds what the person has chosen or typed but not sent yet
 * ({options: Set, text: string}); it survives redraws. `onVote(body)` sends a ballot, `onInvalid(text)`
 * explains why nothing was sent.
 */
export function renderBallotForm(poll, { draft, onVote, onInvalid }) {
  const id = ids(poll);
  const mine = poll.my_ballot;
  if (poll.kind === "single") {
    return el("div", { class: "poll-choices", role: "group", "aria-labelledby": id.title },
      poll.options.map((option) => {
        const chosen = Boolean(mine && mine.options && mine.options.includes(option.id));
        return el("button", {
          type: "button", class: "poll-choice" + (chosen ? " is-chosen" : ""), "aria-pressed": String(chosen),
          "data-action": `option-${option.id}`, onclick: () => onVote({ options: [option.id] }),
        },
        el("span", { class: "poll-choice-mark", "aria-hidden": "true" }, chosen ? "✓" : ""),
        el("span", { class: "poll-choice-label" }, option.label),
        chosen ? el("span", { class: "poll-choice-mine" }, t("Ihre Wahl")) : null);
      }));
  }
  if (poll.kind === "multiple") {
    const limit = poll.max_choices || poll.options.length;
    if (!draft.options) draft.options = new Set((mine && mine.options) || []);
    const hintText = poll.max_choices
      ? t("Wählen Sie eine oder mehrere Antworten, höchstens {max}.", { max: poll.max_choices })
      : t("Wählen Sie eine oder mehrere Antworten.");
    const status = el("span", { class: "poll-picked" });
    const updateStatus = () => {
      const picked = t("{count} von höchstens {max} ausgewählt.", { count: draft.options.size, max: limit });
      status.textContent = ` ${picked}`;
    };
    updateStatus();
    const form = el("form", { class: "poll-form", novalidate: true });
    const boxes = poll.options.map((option) => {
      const input = el("input", { type: "checkbox", name: "options", value: option.id, "data-action": `option-${option.id}` });
      input.checked = draft.options.has(option.id);
      input.addEventListener("change", () => {
        if (input.checked && draft.options.size >= limit) {
          input.checked = false;
          onInvalid(t("Sie können höchstens {max} Antworten wählen. Entfernen Sie zuerst einen Haken.", { max: limit }));
          return;
        }
        if (input.checked) draft.options.add(option.id);
        else draft.options.delete(option.id);
        updateStatus();
      });
      return el("label", { class: "poll-check" }, input, el("span", {}, option.label));
    });
    form.append(
      el("div", { class: "poll-checks", role: "group", "aria-labelledby": id.title, "aria-describedby": id.hint }, boxes),
      el("p", { class: "hint", id: id.hint }, hintText, status),
      el("button", { type: "submit", class: "button button-primary", "data-action": "submit" },
        mine ? t("Antwort ändern") : t("Antwort senden")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (draft.options.size === 0) {
        onInvalid(t("Bitte wählen Sie mindestens eine Antwort."));
        return;
      }
      // In the order of the options, as the person saw them.
      onVote({ options: poll.options.map((o) => o.id).filter((optionId) => draft.options.has(optionId)) });
    });
    return form;
  }
  if (poll.kind === "rating") {
    const ends = scaleEnds(poll);
    const buttons = [];
    for (let value = 1; value <= poll.scale_max; value += 1) {
      const chosen = Boolean(mine && mine.value === value);
      const notAtAll = t("gar nicht");
      const veryMuch = t("sehr");
      const end = value === 1 ? ` – ${notAtAll}` : value === poll.scale_max ? ` – ${veryMuch}` : "";
      buttons.push(el("button", {
        type: "button", class: "poll-scale-value" + (chosen ? " is-chosen" : ""), "aria-pressed": String(chosen),
        "data-action": `value-${value}`, onclick: () => onVote({ value }),
      }, String(value), el("span", { class: "visually-hidden" }, " ", t("von {max}", { max: poll.scale_max }), end)));
    }
    return el("div", { class: "poll-rating" },
      el("div", {
        class: `poll-scale poll-scale-${poll.scale_max}`, role: "group", "aria-labelledby": id.title,
        "aria-describedby": id.ends,
      }, buttons),
      el("p", { class: "poll-scale-ends", id: id.ends },
        el("span", {}, ends.low), el("span", { class: "visually-hidden" }, ", "), el("span", {}, ends.high)));
  }
  // words
  const input = el("input", {
    id: id.word, name: "text", maxlength: MAX_WORD, autocomplete: "off", autocapitalize: "off", enterkeyhint: "send",
    "aria-describedby": id.count, "data-action": "word",
  });
  if (draft.text === undefined || draft.text === null) draft.text = mine && mine.text ? mine.text : "";
  input.value = draft.text;
  const counter = el("p", { class: "counter", id: id.count }, "");
  const updateCounter = () => {
    counter.textContent = t("{count} von {max} Zeichen", { count: input.value.length, max: MAX_WORD });
  };
  updateCounter();
  input.addEventListener("input", () => {
    draft.text = input.value;
    updateCounter();
  });
  const form = el("form", { class: "poll-form poll-words", novalidate: true },
    el("label", { for: id.word }, t("Ihr Wort oder kurzer Begriff")),
    input, counter,
    el("button", { type: "submit", class: "button button-primary", "data-action": "submit" },
      mine ? t("Wort ändern") : t("Wort senden")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      onInvalid(t("Bitte geben Sie zuerst ein Wort ein."));
      input.focus();
      return;
    }
    onVote({ text });
  });
  return form;
}

export function pollTitleId(poll) {
  return ids(poll).title;
}
