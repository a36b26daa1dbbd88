// Abuse on the moderator's cards: why a question was held, its reports, whether its device is blocked, and what
// that device has sent. The notes come with the snapshot and in `moderation_notes` messages.
import { api } from "../../lib/api.js";
import { el } from "../../lib/dom.js";
import { t, tn } from "../../lib/i18n.js";
import { formatTime } from "../../lib/time.js";
import { STATUS_LABELS } from "../questions.js";
import { actionButton, ERROR_TEXTS, explain, say, shorten } from "./feedback.js";

const REPORT_REASON_LABELS = {
  offensive: t("beleidigend"),
  spam: t("Spam"),
  misleading: t("falsche Angaben"),
  other: t("anderes"),
};

function quoted(words) {
  return words.map((word) => `„${word}“`).join(", ");
}

/** `filter` is the tools card (word-filter.js), `render()` redraws the cards (once per frame). */
export function moderationNotes({ urls, filter, render }) {
  const notes = new Map(); // question id -> {note, seq}: why it was held, reports, whether its device is blocked
  const historyOpen = new Set(); // questions whose device history is shown
  const histories = new Map(); // question id -> the device history as last fetched
  const abuseBusy = new Set();

  function noteOf(question) {
    const entry = notes.get(question.id);
    return entry ? entry.note : null;
  }

  function isHeld(question) {
    const note = noteOf(question);
    return Boolean(note && (note.held_words.length || note.held_device));
  }

  // Each note and list carries the sequence number it was true at; an older one never replaces a newer one, so
  // the fetched state and the live messages can arrive in any order.
  function applyNotes(data, seq) {
    for (const note of data.notes) {
      const known = notes.get(note.question_id);
      if (!known || known.seq <= seq) notes.set(note.question_id, { note, seq });
    }
    filter.applyLists(data, seq);
    for (const note of data.notes) histories.delete(note.question_id); // outdated: fetched again when shown
    for (const id of historyOpen) if (!histories.has(id)) loadHistory(id);
    render();
    filter.render();
  }

  async function loadNotes() {
    try {
      const data = await api("GET", urls.moderationNotes());
      applyNotes(data, data.seq);
    } catch (error) {
      explain(error);
    }
  }

  function abuseNotes(question) {
    const note = noteOf(question);
    if (!note) return [];
    const parts = [];
    if (question.status === "pending" && note.held_words.length) {
      parts.push(el("p", { class: "abuse-note is-held" }, el("span", { "aria-hidden": "true" }, "⚠ "),
        t("Vom Wortfilter zurückgehalten: {words}", { words: quoted(note.held_words) })));
    }
    if (question.status === "pending" && note.held_device) {
      parts.push(el("p", { class: "abuse-note is-held" }, el("span", { "aria-hidden": "true" }, "⚠ "),
        t("Zurückgehalten: gesperrtes Gerät")));
    } else if (note.device_blocked) {
      parts.push(el("p", { class: "abuse-note" }, t("Das Gerät dieser Frage ist gesperrt.")));
    }
    if (note.reports) {
      const reasons = Object.entries(note.report_reasons)
        .map(([reason, count]) => `${REPORT_REASON_LABELS[reason] || reason} (${count})`).join(", ");
      parts.push(el("div", { class: "abuse-note is-reported" },
        el("p", {}, el("span", { "aria-hidden": "true" }, "⚑ "),
          tn(note.reports, t("1 Meldung: {reasons}"), t("{count} Meldungen: {reasons}"), { reasons })),
        actionButton(t("Meldungen verwerfen"), "dismiss-reports", () => abuseAction(question, "DELETE", "reports",
          t("Meldungen verworfen")), "button-quiet button-small")));
    }
    return parts;
  }

  function abuseActions(question) {
    const note = noteOf(question);
    const blocked = Boolean(note && note.device_blocked);
    const open = historyOpen.has(question.id);
    return el("div", { class: "actions abuse-actions" },
      blocked
        ? actionButton(t("Gerätesperre aufheben"), "unblock", () => abuseAction(question, "DELETE", "device-block",
          t("Gerätesperre aufgehoben")), "button-quiet button-small")
        : actionButton(t("Gerät sperren"), "block", () => abuseAction(question, "POST", "device-block",
          t("Gerät gesperrt")), "button-quiet button-small button-danger-quiet"),
      el("button", {
        type: "button", class: "button button-quiet button-small", "data-action": "history",
        "aria-expanded": String(open), "aria-controls": `history-${question.id}`,
        onclick: () => {
          if (open) historyOpen.delete(question.id);
          else {
            historyOpen.add(question.id);
            loadHistory(question.id);
          }
          render();
        },
      }, t("Was hat dieses Gerät gesendet?")));
  }

  // `what`: "reports" (dismiss them) or "device-block" (POST blocks the device, DELETE lifts the block).
  async function abuseAction(question, method, what, doneText) {
    if (abuseBusy.has(question.id)) return;
    abuseBusy.add(question.id);
    render();
    try {
      const address = what === "reports" ? urls.questionReports(question.id) : urls.questionDeviceBlock(question.id);
      const result = await api(method, address);
      if (result.blocks) filter.setBlocks(result.blocks);
      if (what !== "device-block") say(t("{action}: „{text}“", { action: doneText, text: shorten(question.text) }));
      else {
        say(method === "POST"
          ? t("Gerät gesperrt: Neue Fragen von diesem Gerät warten im Eingang, seine Stimmen zählen nicht. Bisherige Fragen bleiben, bis Sie sie ablehnen.")
          : t("Gerätesperre aufgehoben: Fragen und Stimmen von diesem Gerät zählen wieder."));
      }
    } catch (error) {
      explain(error);
    } finally {
      abuseBusy.delete(question.id);
      render();
    }
  }

  /** The tools card's "Sperre aufheben": the block's entry stands for the question it was made from. */
  function unblock(block) {
    return abuseAction({ id: block.question_id, text: block.text || "" }, "DELETE", "device-block",
      t("Gerätesperre aufgehoben"));
  }

  async function loadHistory(questionId) {
    try {
      histories.set(questionId, await api("GET", urls.questionDevice(questionId)));
    } catch (error) {
      histories.set(questionId, { error: ERROR_TEXTS[error.code] || error.message || error.code });
    }
    render();
  }

  function deviceHistory(question) {
    const history = histories.get(question.id);
    const box = el("section", { class: "device-history", id: `history-${question.id}`,
      "aria-label": t("Was dieses Gerät gesendet hat") });
    if (!history) {
      box.append(el("p", { class: "hint" }, t("Wird geladen …")));
      return box;
    }
    if (history.error) {
      box.append(el("p", { class: "hint" }, history.error));
      return box;
    }
    const count = (part) => part.not_counted
      ? t("{cast} (davon {ignored} nicht gezählt)", { cast: part.cast, ignored: part.not_counted }) : String(part.cast);
    box.append(
      el("p", { class: "device-history-head" }, history.blocked
        ? t("Gerät gesperrt seit {time} Uhr", { time: formatTime(history.blocked_at) }) : t("Gerät nicht gesperrt")),
      el("ol", { class: "device-history-list" }, history.questions.map((q) => el("li", { class: q.id === question.id ? "is-this" : "" },
        el("span", { class: `badge badge-${q.status}` }, STATUS_LABELS[q.status]), " ",
        el("time", { datetime: q.created_at }, formatTime(q.created_at)), " ",
        el("span", {}, q.text)))),
      el("p", { class: "device-history-counts" },
        t("Stimmen für Fragen: {votes} · Antworten in Umfragen: {ballots} · Meldungen gesendet: {reports}",
          { votes: count(history.votes), ballots: count(history.ballots), reports: history.reports_sent })),
    );
    return box;
  }

  /** A card's parts in the notes: what its signature must include so the card redraws when they change. */
  function cardState(question) {
    return [noteOf(question), historyOpen.has(question.id) ? histories.get(question.id) || "loading" : null,
      abuseBusy.has(question.id)];
  }

  /** The device history under a question's card, while it is open (none, else: append() would write "null"). */
  function historyParts(question) {
    return historyOpen.has(question.id) ? [deviceHistory(question)] : [];
  }

  return { applyNotes, loadNotes, isHeld, noteOf, unblock, cardState, abuseNotes, abuseActions, historyParts };
}
