// The answer controls of an open poll, on the viewer page. What a person chose or typed lives in a draft that
// survives the redraws live messages cause.
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { LIMITS } from "../lib/limits.js";
import { scaleEnds } from "./polls.js";

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
        el("span", { class: "poll-choice-label", dir: "auto" }, option.label),
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
  if ((poll.max_words || 1) > 1) return wordsForm(poll, { id, mine, draft, onVote, onInvalid });
  const input = el("input", {
    id: id.word, name: "text", maxlength: LIMITS.word_answer, autocomplete: "off", autocapitalize: "off", enterkeyhint: "send",
    "aria-describedby": id.count, "data-action": "word",
  });
  if (draft.text === undefined || draft.text === null) draft.text = mine && mine.text ? mine.text : "";
  input.value = draft.text;
  const counter = el("p", { class: "counter", id: id.count }, "");
  const updateCounter = () => {
    counter.textContent = t("{count} von {max} Zeichen", { count: input.value.length, max: LIMITS.word_answer });
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

/** A word cloud that takes up to `max_words` words: one field per word, the first one required. */
function wordsForm(poll, { id, mine, draft, onVote, onInvalid }) {
  const count = poll.max_words;
  if (!Array.isArray(draft.words)) draft.words = mine && mine.words ? [...mine.words] : [];
  const inputs = Array.from({ length: count }, (_, index) => {
    const input = el("input", {
      id: `${id.word}-${index + 1}`, name: `word-${index + 1}`, maxlength: LIMITS.word_answer, autocomplete: "off",
      autocapitalize: "off", "data-action": `word-${index + 1}`,
    });
    input.value = draft.words[index] || "";
    input.addEventListener("input", () => {
      draft.words[index] = input.value;
    });
    return input;
  });
  const form = el("form", { class: "poll-form poll-words", novalidate: true },
    el("p", { class: "hint", id: id.count }, t("Bis zu {count} Wörter oder kurze Begriffe, je höchstens {max} Zeichen.",
      { count, max: LIMITS.word_answer })),
    ...inputs.flatMap((input, index) => [
      el("label", { for: input.id }, t("Wort {number}", { number: index + 1 }),
        index > 0 ? el("span", { class: "optional" }, " ", t("(freiwillig)")) : null),
      input]),
    el("button", { type: "submit", class: "button button-primary", "data-action": "submit" },
      mine ? t("Wörter ändern") : t("Wörter senden")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const words = inputs.map((input) => input.value.trim()).filter(Boolean);
    if (!words.length) {
      onInvalid(t("Bitte geben Sie zuerst ein Wort ein."));
      inputs[0].focus();
      return;
    }
    onVote({ words });
  });
  return form;
}

export function pollTitleId(poll) {
  return ids(poll).title;
}
