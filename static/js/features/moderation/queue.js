// The moderator's live queue: a column per status, one-click actions, inline editing, undo, the panelist filter and
// the question on air. A card is redrawn only when what it shows changed, so an open editor survives live updates.
import { api } from "../../lib/api.js";
import { el, perFrame, renderKeyed } from "../../lib/dom.js";
import { votesText } from "../../lib/format.js";
import { t } from "../../lib/i18n.js";
import { formatTime } from "../../lib/time.js";
import { addressee } from "../questions.js";
import { answerEditor, textEditor } from "./editors.js";
import { actionButton, explain, say, shorten } from "./feedback.js";

const ACTION_DONE = {
  approved: t("Freigegeben"),
  rejected: t("Abgelehnt"),
  answered: t("Als beantwortet markiert"),
  pending: t("Zurück in den Eingang gelegt"),
};

/** `abuse` is the notes on the cards (abuse.js). */
export function moderationQueue({ store, urls, abuse }) {
  const editing = new Set();
  const answering = new Set(); // questions whose written answer is being typed
  const panelistFilter = document.querySelector("[data-panelist-filter]");

  async function change(question, body, doneText) {
    try {
      const updated = await api("PATCH", urls.question(question.id), body);
      store.upsert(updated);
      if (body.highlighted !== undefined) store.onAirId = updated.highlighted ? updated.id : (store.onAirId === updated.id ? null : store.onAirId);
      say(t("{action}: „{text}“", { action: doneText, text: shorten(updated.text) }));
      render();
    } catch (error) {
      if (error.code === "version_conflict" && error.details?.question) store.upsert(error.details.question);
      explain(error);
      render();
    }
  }

  async function undo() {
    try {
      const result = await api("POST", urls.undo());
      store.upsert(result.question);
      say(t("Rückgängig gemacht: „{text}“", { text: shorten(result.question.text) }));
      render();
    } catch (error) {
      explain(error);
      render();
    }
  }

  function actionsFor(question) {
    const onAir = store.onAirId === question.id;
    const status = (value) => () => change(question, { status: value }, ACTION_DONE[value]);
    const air = actionButton(onAir ? t("Von Sendung nehmen") : t("Auf Sendung"), onAir ? "off-air" : "on-air",
      () => change(question, { highlighted: !onAir }, onAir ? t("Von Sendung genommen") : t("Auf Sendung")),
      onAir ? "" : "button-air");
    const edit = actionButton(t("Bearbeiten"), "edit", () => {
      editing.add(question.id);
      render();
    }, "button-quiet");
    const answer = actionButton(question.answer ? t("Antwort ändern") : t("Schriftlich antworten"), "answer", () => {
      answering.add(question.id);
      render();
    }, "button-quiet");
    switch (question.status) {
      case "pending":
        // A held question goes on air only after its own approval (the server refuses it, too).
        return [actionButton(t("Freigeben"), "approve", status("approved"), "button-primary"),
          actionButton(t("Ablehnen"), "reject", status("rejected"), "button-danger"), abuse.isHeld(question) ? null : air, edit]
          .filter(Boolean);
      case "approved":
        return [air, actionButton(t("Beantwortet"), "answered", status("answered")), edit, answer,
          actionButton(t("Ablehnen"), "reject", status("rejected"), "button-danger")];
      case "answered":
        return [actionButton(t("Wieder freigeben"), "approve", status("approved")), edit, answer];
      default:
        return [actionButton(t("Doch freigeben"), "approve", status("approved")), edit];
    }
  }

  function renderCard(li, question) {
    li.className = "question mod-card" + (store.onAirId === question.id ? " is-on-air" : "");
    if (editing.has(question.id)) {
      textEditor(li, question, {
        stop: () => {
          editing.delete(question.id);
          render();
        },
        save: (text) => {
          editing.delete(question.id);
          change(question, { text, version: question.version }, t("Text geändert"));
        },
      });
      return;
    }
    if (answering.has(question.id)) {
      answerEditor(li, question, {
        stop: () => {
          answering.delete(question.id);
          render();
        },
        save: (answer) => {
          answering.delete(question.id);
          change(question, { answer: answer || null, version: question.version },
            answer ? t("Schriftliche Antwort gespeichert") : t("Schriftliche Antwort entfernt"));
        },
      });
      return;
    }
    li.append(
      el("p", { class: "question-text" }, question.text),
      el("p", { class: "question-meta" },
        el("span", { class: "question-name" }, question.name || t("Anonym")),
        addressee(store.event, question) ? el("span", { class: "question-to" }, addressee(store.event, question)) : null,
        el("span", {}, votesText(question.votes)),
        el("time", { datetime: question.created_at }, formatTime(question.created_at))),
      ...(question.answer ? [el("div", { class: "written-answer" },
        el("p", { class: "written-answer-label" }, t("Schriftliche Antwort")), el("p", {}, question.answer))] : []),
      ...abuse.abuseNotes(question),
      el("div", { class: "actions" }, actionsFor(question)),
      abuse.abuseActions(question),
      ...abuse.historyParts(question),
    );
  }

  const render = perFrame(() => {
    drawPanelistFilter();
    const signature = (q) => JSON.stringify(
      [q, store.onAirId === q.id, editing.has(q.id), answering.has(q.id), addressee(store.event, q), ...abuse.cardState(q)]);
    for (const status of ["pending", "approved", "answered", "rejected"]) {
      const sort = status === "approved" ? "popular" : status === "pending" ? "oldest" : "newest";
      let items = store.list({ statuses: [status], sort: sort === "oldest" ? "newest" : sort });
      if (panelistFilter.value) items = items.filter((q) => String(q.panelist_id) === panelistFilter.value);
      if (sort === "oldest") items = items.reverse();
      renderKeyed(document.querySelector(`[data-column="${status}"]`), items, renderCard, signature);
      document.querySelector(`[data-count="${status}"]`).textContent = String(items.length);
      document.querySelector(`[data-empty="${status}"]`).hidden = items.length > 0;
    }
    const onAir = store.onAir;
    const box = document.querySelector("[data-mod-on-air]");
    box.replaceChildren(onAir
      ? el("div", {},
        el("p", { class: "on-air-text" }, onAir.text),
        el("p", { class: "question-meta" }, onAir.name || t("Anonym")),
        el("div", { class: "actions" },
          actionButton(t("Beantwortet"), "answered", () => change(onAir, { status: "answered" }, ACTION_DONE.answered), "button-primary"),
          actionButton(t("Von Sendung nehmen"), "off-air", () => change(onAir, { highlighted: false }, t("Von Sendung genommen")))))
      : el("p", { class: "empty" }, t("Zurzeit ist keine Frage auf Sendung.")));
  });

  panelistFilter.addEventListener("change", () => render());

  function drawPanelistFilter() {
    const panelists = (store.event && store.event.panelists) || [];
    document.querySelector("[data-panelist-filter-wrap]").hidden = panelists.length === 0;
    const signature = JSON.stringify(panelists);
    if (panelistFilter.dataset.signature === signature) return;
    panelistFilter.dataset.signature = signature;
    const chosen = panelistFilter.value;
    panelistFilter.replaceChildren(el("option", { value: "" }, t("alle (auch das ganze Podium)")),
      ...panelists.map((p) => el("option", { value: String(p.id) }, p.role ? `${p.name} (${p.role})` : p.name)));
    panelistFilter.value = panelists.some((p) => String(p.id) === chosen) ? chosen : "";
  }

  return { render, undo };
}
