// The activity list: the event's recent moderation actions (who, what, which question, when), live for every
// moderator, with undo on each row while it is possible. Loaded with the snapshot (and after a reconnect), then kept
// by `moderation_action` messages; whether a row can be undone is worked out from the questions as they are now.
import { api } from "../../lib/api.js";
import { el, perFrame } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { formatTime } from "../../lib/time.js";
import { actionButton, shorten } from "./feedback.js";

const KIND_TEXTS = {
  on_air: t("auf Sendung"),
  off_air: t("von Sendung genommen"),
  approved: t("freigegeben"),
  rejected: t("abgelehnt"),
  answered: t("als beantwortet markiert"),
  pending: t("zurück in den Eingang"),
  text: t("Text geändert"),
  answer: t("schriftlich beantwortet"),
  answer_removed: t("schriftliche Antwort entfernt"),
  none: t("nichts geändert"),
};
const SHOWN = 30;

/** `store`: the questions; `myId`: this moderator's id; `undoEntry(entry)` undoes a row. */
export function activityPanel({ store, urls, myId, undoEntry }) {
  const entries = new Map();
  const list = document.querySelector("[data-activity-list]");
  const empty = document.querySelector("[data-activity-empty]");

  async function load() {
    try {
      const { actions } = await api("GET", urls.moderationActions());
      for (const entry of actions) entries.set(entry.id, entry);
      render();
    } catch {
      // The list is a help, not the work: the queue goes on without it (it is fetched again after a reconnect).
    }
  }

  function apply(entry) {
    entries.set(entry.id, entry);
    render();
  }

  /** Whether one of the entry's questions is still as the action left it (then undo can revert it). */
  function undoable(entry) {
    if (entry.undone_at) return false;
    return entry.questions.some((q) => {
      const now = store.questions.get(q.id);
      return now && now.status === q.after.status && now.text === q.after.text
        && (now.answer || null) === (q.after.answer || null) && (store.onAirId === q.id) === q.after.on_air;
    });
  }

  /** Who changed the question last, from the list: {name, mine}, or null if not known. */
  function lastBy(questionId) {
    let found = null;
    for (const entry of entries.values()) {
      if (entry.questions.some((q) => q.id === questionId) && (!found || entry.id > found.id)) found = entry;
    }
    if (!found) return null;
    return { name: found.moderator, mine: found.moderator_id === myId };
  }

  /** The question as it is now (a later edit renames it here too), else as the entry knew it. */
  function textOf(q) {
    return store.questions.get(q.id)?.text ?? q.text;
  }

  function describe(entry) {
    const what = KIND_TEXTS[entry.kind] || entry.kind;
    const subject = entry.questions.length === 1
      ? `„${shorten(textOf(entry.questions[0]))}“`
      : t("{count} Fragen", { count: entry.questions.length });
    return `${subject} ${what}`;
  }

  function row(entry) {
    const who = entry.moderator_id === myId ? t("Sie") : (entry.moderator || t("gelöschtes Konto"));
    const possible = undoable(entry);
    return el("li", { class: "activity-row" + (entry.undone_at ? " is-undone" : ""), dataset: { id: String(entry.id) } },
      el("p", { class: "activity-text" },
        el("time", { datetime: entry.created_at }, formatTime(entry.created_at)), " ",
        el("strong", {}, who), ": ", describe(entry),
        entry.undone_at ? el("span", { class: "activity-undone" }, " · " + t("rückgängig gemacht von {name}", {
          name: entry.undone_by || t("gelöschtes Konto") })) : null),
      possible ? actionButton(t("Rückgängig"), "undo-row", () => undoEntry(entry), "button-quiet button-small",
        { "aria-label": t("Rückgängig: {what}", { what: describe(entry) }) }) : null);
  }

  const render = perFrame(() => {
    const newest = [...entries.values()].sort((a, b) => b.id - a.id).slice(0, SHOWN);
    const signature = JSON.stringify(newest.map((e) => [e.id, e.undone_at, undoable(e), e.questions.map(textOf)]));
    empty.hidden = newest.length > 0;
    if (list.dataset.sig === signature) return;
    // Keep focus on the row's button when the list is redrawn under it.
    const focusedId = document.activeElement?.closest?.(".activity-row")?.dataset.id;
    list.dataset.sig = signature;
    list.replaceChildren(...newest.map(row));
    if (focusedId) list.querySelector(`[data-id="${focusedId}"] button`)?.focus();
  });

  return { load, apply, render, lastBy };
}
