// The moderator's live queue: the incoming column beside tabs for approved, answered and rejected questions, compact
// cards with one-click actions, inline editors that live updates never reset, search and filters, selection for
// bulk actions, and undo (own last action, or any row of the activity list).
//
// A card is redrawn only when what it shows changed. A card with an open editor is never redrawn as a whole: the
// parts around the editor are replaced and the editor element itself stays, with what was typed, the caret and the
// focus (see editors.js for what happens when a colleague changes the same question meanwhile).
import { api } from "../../lib/api.js";
import { announce, el, perFrame, renderKeyed } from "../../lib/dom.js";
import { votesText } from "../../lib/format.js";
import { t, tn } from "../../lib/i18n.js";
import { formatTime } from "../../lib/time.js";
import { addressee } from "../questions.js";
import { activityPanel } from "./activity.js";
import { createEditor } from "./editors.js";
import { actionButton, ERROR_TEXTS, explain, say, shorten } from "./feedback.js";

const ACTION_DONE = {
  approved: t("Freigegeben"),
  rejected: t("Abgelehnt"),
  answered: t("Als beantwortet markiert"),
  pending: t("Zurück in den Eingang gelegt"),
};
export const STATUSES = ["pending", "approved", "answered", "rejected"];
const SORTS = { pending: "oldest", approved: "popular", answered: "newest", rejected: "newest" };

/** `abuse` is the notes on the cards (abuse.js), `view` the search, filters, tabs and selection (console-view.js). */
export function moderationQueue({ store, urls, abuse, view, myId }) {
  const editors = new Map(); // question id -> the open editor (createEditor)
  const moreOpen = new Set(); // cards whose "more" tools are unfolded
  let focusNext = null; // {status, id}: the card to focus once the list is drawn (after an action moved one away)
  const activity = activityPanel({ store, urls, myId, undoEntry });

  function undoOffer(entryId) {
    return entryId ? () => undoEntry({ id: entryId }) : null;
  }

  async function change(question, body, doneText) {
    try {
      const updated = await api("PATCH", urls.question(question.id), body);
      store.upsert(updated);
      if (body.highlighted !== undefined) {
        store.onAirId = updated.highlighted ? updated.id : (store.onAirId === updated.id ? null : store.onAirId);
      }
      say(t("{action}: „{text}“", { action: doneText, text: shorten(updated.text) }), "ok", { undo: undo });
      render();
      return updated;
    } catch (error) {
      if (error.code === "version_conflict" && error.details?.question) store.upsert(error.details.question);
      const editor = editors.get(question.id);
      if (error.code === "version_conflict" && editor) {
        editor.refused(t("Nicht gespeichert: Jemand anderes hat die Frage inzwischen geändert. Bitte wählen Sie unten."));
        say(t("Nicht gespeichert: „{text}“ wurde inzwischen geändert.", { text: shorten(question.text) }), "error");
      } else {
        explain(error);
      }
      render();
      return null;
    }
  }

  function undone(result) {
    for (const question of result.questions || [result.question]) store.upsert(question);
    const first = result.question;
    const what = (result.questions || []).length > 1
      ? t("{count} Fragen", { count: result.questions.length }) : `„${shorten(first.text)}“`;
    let text = t("Rückgängig gemacht: {what}", { what });
    if (result.skipped && result.skipped.length) {
      text += " · " + t("Nicht rückgängig (inzwischen geändert): {texts}",
        { texts: result.skipped.map((q) => `„${shorten(q.text)}“`).join(", ") });
    }
    say(text, "ok");
    render();
  }

  function refusedUndo(error) {
    const skipped = error.details?.skipped || [];
    for (const question of skipped) store.upsert(question);
    if (error.code === "changed_since" && skipped.length) {
      say(t("Nicht rückgängig gemacht: {texts} wurde inzwischen von jemand anderem geändert. Bitte von Hand korrigieren.",
        { texts: skipped.map((q) => `„${shorten(q.text)}“`).join(", ") }), "error");
    } else {
      explain(error);
    }
    render();
  }

  async function undo() {
    try {
      undone(await api("POST", urls.undo()));
    } catch (error) {
      refusedUndo(error);
    }
  }

  async function undoEntry(entry) {
    try {
      undone(await api("POST", urls.undoAction(entry.id)));
    } catch (error) {
      refusedUndo(error);
    }
  }

  async function bulk(status) {
    const ids = view.selectedIds();
    if (!ids.length) return;
    try {
      const result = await api("POST", urls.bulk(), { question_ids: ids, status });
      for (const question of result.questions) store.upsert(question);
      view.clearSelection();
      const count = result.questions.length;
      say(status === "approved"
        ? tn(count, t("1 Frage freigegeben"), t("{count} Fragen freigegeben"))
        : tn(count, t("1 Frage abgelehnt"), t("{count} Fragen abgelehnt")), "ok", { undo: undoOffer(result.action_id) });
      render();
    } catch (error) {
      explain(error);
    }
  }

  /** The card after (or else before) this one in its list: where the keyboard goes when this one moves away. */
  function neighbourOf(question) {
    const li = document.querySelector(`[data-column="${question.status}"] li[data-id="${question.id}"]`);
    const next = li && (li.nextElementSibling || li.previousElementSibling);
    return next ? { status: question.status, id: next.dataset.id } : null;
  }

  async function setStatus(question, status) {
    const next = neighbourOf(question);
    const updated = await change(question, { status }, ACTION_DONE[status]);
    if (updated && updated.status !== question.status) focusNext = next;
  }

  function toggleAir(question) {
    const onAir = store.onAirId === question.id;
    if (!onAir && abuse.isHeld(question)) {
      say(ERROR_TEXTS.held_question, "error");
      return;
    }
    const next = question.status === "pending" ? neighbourOf(question) : null;
    change(question, { highlighted: !onAir }, onAir ? t("Von Sendung genommen") : t("Auf Sendung")).then((updated) => {
      if (updated && next) focusNext = next;
    });
  }

  function openEditor(question, kind) {
    if (editors.has(question.id)) {
      editors.get(question.id).textarea.focus();
      return;
    }
    const stop = () => {
      editors.delete(question.id);
      focusNext = { status: store.questions.get(question.id)?.status, id: String(question.id), action: kind === "text" ? "edit" : "answer" };
      render();
    };
    const editor = createEditor(kind, question, {
      stop,
      whoChanged: (q) => activity.lastBy(q.id),
      save: async (value, version) => {
        const body = kind === "text" ? { text: value, version } : { answer: value || null, version };
        const doneText = kind === "text" ? t("Text geändert")
          : value ? t("Schriftliche Antwort gespeichert") : t("Schriftliche Antwort entfernt");
        const current = store.questions.get(question.id) || question;
        if (await change(current, body, doneText)) stop();
      },
    });
    editors.set(question.id, editor);
    render();
    requestAnimationFrame(() => editor.textarea.focus());
  }

  function actionsFor(question) {
    const onAir = store.onAirId === question.id;
    const held = abuse.isHeld(question);
    const status = (value) => () => setStatus(question, value);
    // The dot is decoration: the button's name stays "Auf Sendung".
    const air = actionButton(onAir ? t("Von Sendung nehmen") : [el("span", { "aria-hidden": "true" }, "● "), t("Auf Sendung")],
      onAir ? "off-air" : "on-air",
      () => toggleAir(question), onAir ? "button-small" : "button-small button-air", { "aria-keyshortcuts": "O" });
    const edit = editors.has(question.id) ? null : actionButton(t("Bearbeiten"), "edit", () => openEditor(question, "text"),
      "button-quiet button-small", { "aria-keyshortcuts": "E" });
    const answer = editors.has(question.id) ? null : actionButton(question.answer ? t("Antwort ändern") : t("Schriftlich antworten"),
      "answer", () => openEditor(question, "answer"), "button-quiet button-small");
    // Reject always sits apart at the end, in its own colour: never next to "Auf Sendung".
    const reject = actionButton(t("Ablehnen"), "reject", status("rejected"), "button-small button-reject action-end",
      { "aria-keyshortcuts": "R" });
    const approve = (label) => actionButton(label, "approve", status("approved"), "button-small button-approve",
      { "aria-keyshortcuts": "A" });
    switch (question.status) {
      case "pending":
        // A held question goes on air only after its own approval (the server refuses it, too).
        return [approve(t("Freigeben")), held ? null : air, edit, reject];
      case "approved":
        // During the event written answers are rare (they wait under "Mehr"); after it they are the work.
        return [air, actionButton(t("Beantwortet"), "answered", status("answered"), "button-small", { "aria-keyshortcuts": "D" }),
          edit, eventIsOver() ? answer : null, reject];
      case "answered":
        return [approve(t("Wieder freigeben")), edit, answer];
      default:
        return [approve(t("Doch freigeben")), edit];
    }
  }

  function eventIsOver() {
    const ends = store.event && store.event.ends_at;
    return Boolean(ends) && Date.parse(ends) < Date.now();
  }

  function ageOf(question) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(question.created_at)) / 60000));
    return minutes < 1 ? t("gerade eben") : minutes < 60 ? t("vor {n} Min.", { n: minutes }) : formatTime(question.created_at);
  }

  function cardParts(question) {
    const editor = editors.get(question.id);
    const selectable = question.status === "pending";
    const starred = view.isStarred(question.id);
    const more = el("details", { class: "card-more", open: moreOpen.has(question.id) },
      el("summary", {}, t("Mehr")),
      question.status === "approved" && !editors.has(question.id) && !eventIsOver()
        ? el("div", { class: "actions" }, actionButton(question.answer ? t("Antwort ändern") : t("Schriftlich antworten"),
          "answer", () => openEditor(question, "answer"), "button-quiet button-small")) : null,
      abuse.abuseActions(question), ...abuse.historyParts(question));
    more.addEventListener("toggle", () => (more.open ? moreOpen.add(question.id) : moreOpen.delete(question.id)));
    const textPart = editor && editor.kind === "text" ? editor.box : el("p", { class: "question-text" }, question.text);
    return [
      el("div", { class: "card-top" },
        selectable ? el("input", {
          type: "checkbox", class: "card-select", "data-action": "select", checked: view.isSelected(question.id),
          "aria-label": t("Auswählen: {text}", { text: shorten(question.text) }),
          onchange: (event) => view.setSelected(question.id, event.target.checked),
        }) : null,
        el("button", {
          type: "button", class: "star" + (starred ? " is-starred" : ""), "data-action": "star",
          "aria-pressed": String(starred), "aria-label": t("Markieren"), title: t("Markieren (S)"),
          onclick: () => view.toggleStar(question.id),
        }, starred ? "★" : "☆")),
      textPart,
      el("div", { class: "question-meta" },
        el("span", { class: "question-name" }, question.name || t("Anonym")),
        addressee(store.event, question) ? el("span", { class: "question-to" }, addressee(store.event, question)) : null,
        el("span", { class: "question-votes" }, votesText(question.votes)),
        el("time", { datetime: question.created_at, title: formatTime(question.created_at) }, ageOf(question)),
        more),
      ...(editor && editor.kind === "answer" ? [editor.box] : question.answer ? [el("div", { class: "written-answer" },
        el("p", { class: "written-answer-label" }, t("Schriftliche Antwort")), el("p", {}, question.answer))] : []),
      ...abuse.abuseNotes(question),
      el("div", { class: "actions" }, actionsFor(question).filter(Boolean)),
    ];
  }

  function renderCard(li, question) {
    li.className = "question mod-card" + (store.onAirId === question.id ? " is-on-air" : "")
      + (view.isSelected(question.id) ? " is-selected" : "") + (editors.has(question.id) ? " is-editing" : "");
    li.tabIndex = -1;
    li.setAttribute("aria-label", shorten(question.text));
    const parts = cardParts(question);
    const editor = editors.get(question.id);
    if (!editor || !li.contains(editor.box)) {
      li.replaceChildren(...parts);
      return;
    }
    // The editor stays where it is; everything around it is new.
    for (const child of [...li.children]) if (child !== editor.box) child.remove();
    let before = true;
    for (const part of parts) {
      if (part === editor.box) before = false;
      else if (before) li.insertBefore(part, editor.box);
      else li.append(part);
    }
  }

  const render = perFrame(() => {
    view.drawPanelistFilter(store.event);
    const active = document.activeElement;
    const typing = [...editors.values()].find((e) => e.textarea === active);
    const caret = typing ? [typing.textarea.selectionStart, typing.textarea.selectionEnd] : null;
    const signature = (q) => editors.has(q.id) ? `editor:${q.id}` : JSON.stringify(
      [q, ageOf(q), store.onAirId === q.id, view.cardState(q.id), moreOpen.has(q.id), addressee(store.event, q), ...abuse.cardState(q)]);
    for (const status of STATUSES) {
      let items = store.list({ statuses: [status], sort: SORTS[status] === "oldest" ? "newest" : SORTS[status] });
      if (SORTS[status] === "oldest") items = items.reverse();
      items = items.filter((q) => editors.has(q.id) || view.shows(q, abuse.noteOf(q)));
      const list = document.querySelector(`[data-column="${status}"]`);
      renderKeyed(list, items, (li, q) => renderCard(li, q), signature);
      for (const q of items) {
        const editor = editors.get(q.id);
        if (!editor) continue;
        const li = list.querySelector(`li[data-id="${q.id}"]`);
        editor.update(q);
        renderCard(li, q);
      }
      document.querySelector(`[data-count="${status}"]`).textContent = String(items.length);
      document.querySelector(`[data-empty="${status}"]`).hidden = items.length > 0;
    }
    if (typing && document.activeElement !== typing.textarea && typing.textarea.isConnected) {
      // The card moved to another list (a colleague approved it): the editor moved with it, and so does the caret.
      typing.textarea.focus();
      typing.textarea.setSelectionRange(...caret);
    }
    view.drawCounts(store, abuse);
    drawOnAir();
    activity.render();
    if (focusNext) {
      const { status, id, action } = focusNext;
      focusNext = null;
      const li = document.querySelector(`[data-column="${status}"] li[data-id="${id}"]`);
      const target = li && action ? li.querySelector(`[data-action="${action}"]`) : li;
      if (target) target.focus();
    }
  });

  function drawOnAir() {
    const onAir = store.onAir;
    const box = document.querySelector("[data-mod-on-air]");
    const signature = JSON.stringify(onAir ? [onAir.id, onAir.text, onAir.name, onAir.votes] : null);
    if (box.dataset.sig === signature) return;
    box.dataset.sig = signature;
    box.replaceChildren(onAir
      ? el("div", {},
        el("p", { class: "on-air-text" }, onAir.text),
        el("p", { class: "question-meta" }, onAir.name || t("Anonym"), " · ", votesText(onAir.votes)),
        el("div", { class: "actions" },
          actionButton(t("Beantwortet"), "answered", () => change(onAir, { status: "answered" }, ACTION_DONE.answered), "button-primary button-small"),
          actionButton(t("Von Sendung nehmen"), "off-air", () => change(onAir, { highlighted: false }, t("Von Sendung genommen")), "button-small")))
      : el("p", { class: "empty" }, t("Zurzeit ist keine Frage auf Sendung.")));
  }

  function onActivity(entry) {
    activity.apply(entry);
    for (const editor of editors.values()) editor.redrawNotice();
  }

  /** A question arrived that nobody has seen yet: say so to screen readers. */
  function arrived(question) {
    if (question.status === "pending") announce(t("Neue Frage im Eingang."));
  }

  return {
    render, undo, bulk, change, setStatus, toggleAir, openEditor, arrived, onActivity,
    loadActivity: activity.load, editors,
  };
}
