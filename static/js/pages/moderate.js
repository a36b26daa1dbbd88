// The moderator page: the live queue, one-click actions, inline editing and undo.
import { AgendaControl } from "../features/agenda-control.js";
import { announce, api, formatTime, pageConfig } from "../lib/api.js";
import { connectLive, showConnection } from "../lib/live.js";
import { CHOICE_KINDS, KIND_LABELS, PollStore, renderResults, STATE_LABELS, VISIBILITY_LABELS } from "../features/polls.js";
import { MessageType } from "../lib/protocol.js";
import { addressee, el, perFrame, QuestionStore, renderKeyed, STATUS_LABELS } from "../features/questions.js";
import { ReactionMeter } from "../features/reactions.js";
import { t } from "../lib/i18n.js";
import { StudioControl } from "../features/studio-control.js";

const config = pageConfig();
const store = new QuestionStore({ staff: true });
const base = `/api/events/${encodeURIComponent(config.slug)}`;
const editing = new Set();
const answering = new Set(); // questions whose written answer is being typed
const toast = document.querySelector("[data-toast]");
const undoButton = document.querySelector("[data-undo]");

const ACTION_DONE = {
  approved: t("Freigegeben"),
  rejected: t("Abgelehnt"),
  answered: t("Als beantwortet markiert"),
  pending: t("Zurück in den Eingang gelegt"),
};

const ERROR_TEXTS = {
  version_conflict: t("Jemand anderes hat diese Frage gerade geändert. Die aktuelle Fassung wird angezeigt."),
  changed_since: t("Die Frage wurde seitdem geändert; bitte von Hand korrigieren."),
  nothing_to_undo: t("Es gibt keine eigene Aktion mehr zum Rückgängigmachen."),
  unauthorized: t("Ihre Anmeldung ist abgelaufen. Bitte neu anmelden."),
  network: t("Keine Verbindung zum Server. Die Aktion wurde nicht ausgeführt."),
  held_question: t("Diese Frage wurde zurückgehalten. Bitte geben Sie sie zuerst frei, dann kann sie auf Sendung."),
  device_unknown: t("Das Gerät dieser Frage ist nicht mehr bekannt (nach Ablauf der Aufbewahrungsfrist)."),
};

function say(text, kind = "ok") {
  toast.textContent = text;
  toast.dataset.kind = kind;
}

function explain(error) {
  if (error.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  }
  say(ERROR_TEXTS[error.code] || t("Aktion nicht möglich: {reason}", { reason: error.message || error.code }), "error");
}

async function change(question, body, doneText) {
  try {
    const updated = await api("PATCH", `${base}/questions/${question.id}`, body);
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
    const result = await api("POST", `${base}/moderation/undo`);
    store.upsert(result.question);
    say(t("Rückgängig gemacht: „{text}“", { text: shorten(result.question.text) }));
    render();
  } catch (error) {
    explain(error);
    render();
  }
}

function shorten(text) {
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

function actionButton(label, action, onclick, extraClass = "") {
  return el("button", { type: "button", class: `button ${extraClass}`.trim(), "data-action": action, onclick }, label);
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
        actionButton(t("Ablehnen"), "reject", status("rejected"), "button-danger"), isHeld(question) ? null : air, edit]
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

// ---------------------------------------------------------------- abuse: held, reported, blocked

const notes = new Map(); // question id -> {note, seq}: why it was held, reports, whether its device is blocked
const historyOpen = new Set(); // questions whose device history is shown
const histories = new Map(); // question id -> the device history as last fetched
const abuseBusy = new Set();
let lists = { seq: -1, words: [], blocks: [] };

const REPORT_REASON_LABELS = {
  offensive: t("beleidigend"),
  spam: t("Spam"),
  misleading: t("falsche Angaben"),
  other: t("anderes"),
};

function noteOf(question) {
  const entry = notes.get(question.id);
  return entry ? entry.note : null;
}

function isHeld(question) {
  const note = noteOf(question);
  return Boolean(note && (note.held_words.length || note.held_device));
}

// Each note and list carries the sequence number it was true at; an older one never replaces a newer one, so the
// fetched state and the live messages can arrive in any order.
function applyNotes(data, seq) {
  for (const note of data.notes) {
    const known = notes.get(note.question_id);
    if (!known || known.seq <= seq) notes.set(note.question_id, { note, seq });
  }
  if (data.words && seq >= lists.seq) lists = { ...lists, words: data.words };
  if (data.blocks && seq >= lists.seq) lists = { ...lists, blocks: data.blocks };
  if ((data.words || data.blocks) && seq >= lists.seq) lists.seq = seq;
  for (const note of data.notes) histories.delete(note.question_id); // outdated: fetched again when shown
  for (const id of historyOpen) if (!histories.has(id)) loadHistory(id);
  render();
  renderAbuseTools();
}

async function loadNotes() {
  try {
    const data = await api("GET", `${base}/moderation/notes`);
    applyNotes(data, data.seq);
  } catch (error) {
    explain(error);
  }
}

function quoted(words) {
  return words.map((word) => `„${word}“`).join(", ");
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
        note.reports === 1 ? t("1 Meldung: {reasons}", { reasons })
          : t("{count} Meldungen: {reasons}", { count: note.reports, reasons })),
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

async function abuseAction(question, method, what, doneText) {
  if (abuseBusy.has(question.id)) return;
  abuseBusy.add(question.id);
  render();
  try {
    const result = await api(method, `${base}/questions/${question.id}/${what}`);
    if (result.blocks) {
      lists = { ...lists, blocks: result.blocks };
      renderAbuseTools();
    }
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

async function loadHistory(questionId) {
  try {
    histories.set(questionId, await api("GET", `${base}/questions/${questionId}/device`));
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

// The tools card: the event's own filter words and the blocked devices.
function renderAbuseTools() {
  const wordList = document.querySelector("[data-word-list]");
  const signature = JSON.stringify(lists);
  if (wordList.dataset.sig === signature) return;
  wordList.dataset.sig = signature;
  const hadFocus = document.activeElement && document.activeElement.closest("[data-abuse-tools]")
    ? document.activeElement.dataset.word || document.activeElement.dataset.block || null : null;
  wordList.replaceChildren(...lists.words.map((word) => el("li", {},
    el("span", { class: "word-chip" }, word),
    el("button", { type: "button", class: "button button-quiet button-small", "data-word": word,
      "aria-label": t("„{word}“ entfernen", { word }), onclick: () => removeWord(word) }, t("Entfernen")))));
  document.querySelector("[data-word-empty]").hidden = lists.words.length > 0;
  const blockList = document.querySelector("[data-block-list]");
  blockList.replaceChildren(...lists.blocks.map((block) => el("li", {},
    el("p", { class: "block-text" }, block.text || t("(Frage nicht mehr vorhanden)")),
    el("p", { class: "question-meta" },
      el("span", {}, t("erste Frage {time} Uhr", { time: formatTime(block.created_at) })),
      el("span", {}, block.questions === 1 ? t("1 Frage") : t("{count} Fragen", { count: block.questions })),
      el("span", {}, t("gesperrt {time} Uhr", { time: formatTime(block.blocked_at) }))),
    el("button", { type: "button", class: "button button-quiet button-small", "data-block": String(block.question_id),
      onclick: () => abuseAction({ id: block.question_id, text: block.text || "" }, "DELETE", "device-block",
        t("Gerätesperre aufgehoben")) }, t("Sperre aufheben")))));
  document.querySelector("[data-block-empty]").hidden = lists.blocks.length > 0;
  document.querySelector("[data-block-count]").textContent = String(lists.blocks.length);
  document.querySelector("[data-word-count]").textContent = String(lists.words.length);
  if (hadFocus) {
    const form = document.querySelector("[data-word-form] input");
    if (form) form.focus(); // the removed entry is gone; the field to add one is the nearest sensible place
  }
}

async function removeWord(word) {
  try {
    const result = await api("DELETE", `${base}/words/${encodeURIComponent(word)}`);
    lists = { ...lists, words: result.words };
    say(t("Aus dem Wortfilter entfernt: „{word}“", { word }));
  } catch (error) {
    explain(error);
  }
  renderAbuseTools();
}

function setUpWordForm() {
  const form = document.querySelector("[data-word-form]");
  const input = form.querySelector("input");
  const feedback = document.querySelector("[data-word-feedback]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const word = input.value.trim();
    feedback.className = "form-feedback";
    if (!word) {
      feedback.textContent = t("Bitte geben Sie ein Wort oder eine Wortgruppe ein.");
      feedback.classList.add("is-error");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    try {
      const result = await api("POST", `${base}/words`, { word });
      lists = { ...lists, words: result.words };
      input.value = "";
      input.removeAttribute("aria-invalid");
      feedback.textContent = t("Im Wortfilter: „{word}“. Neue Fragen damit warten im Eingang.", { word: result.word });
      feedback.classList.add("is-ok");
      renderAbuseTools();
    } catch (error) {
      if (error.status === 401) explain(error);
      feedback.textContent = error.status === 422
        ? t("Bitte geben Sie ein Wort aus Buchstaben ein (höchstens 60 Zeichen).")
        : error.code === "too_many_words" ? t("Diese Veranstaltung hat schon die höchste Zahl eigener Wörter.")
          : t("Das Wort konnte nicht gespeichert werden: {reason}", { reason: error.message || error.code });
      feedback.classList.add("is-error");
      input.setAttribute("aria-invalid", "true");
    }
  });
}

function editor(li, question) {
  const id = `edit-${question.id}`;
  const textarea = el("textarea", { id, rows: 3, maxlength: 300, "data-action": "edit-text" });
  textarea.value = question.text;
  const stop = () => {
    editing.delete(question.id);
    render();
  };
  const save = () => {
    editing.delete(question.id);
    change(question, { text: textarea.value, version: question.version }, t("Text geändert"));
  };
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") stop();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) save();
  });
  li.append(
    el("label", { for: id }, t("Text der Frage bearbeiten")),
    textarea,
    el("div", { class: "actions" },
      actionButton(t("Speichern"), "save", save, "button-primary"),
      actionButton(t("Abbrechen"), "cancel", stop, "button-quiet")),
  );
  requestAnimationFrame(() => textarea.focus());
}

function answerEditor(li, question) {
  const id = `answer-${question.id}`;
  const textarea = el("textarea", { id, rows: 4, maxlength: 2000, "data-action": "answer-text" });
  textarea.value = question.answer || "";
  const stop = () => {
    answering.delete(question.id);
    render();
  };
  const save = () => {
    answering.delete(question.id);
    const answer = textarea.value.trim();
    change(question, { answer: answer || null, version: question.version },
      answer ? t("Schriftliche Antwort gespeichert") : t("Schriftliche Antwort entfernt"));
  };
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") stop();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) save();
  });
  li.append(
    el("p", { class: "question-text" }, question.text),
    el("label", { for: id }, t("Schriftliche Antwort (für alle sichtbar, wo die Frage sichtbar ist)")),
    textarea,
    el("div", { class: "actions" },
      actionButton(t("Antwort speichern"), "save-answer", save, "button-primary"),
      actionButton(t("Abbrechen"), "cancel", stop, "button-quiet")),
  );
  requestAnimationFrame(() => textarea.focus());
}

function renderCard(li, question) {
  li.className = "question mod-card" + (store.onAirId === question.id ? " is-on-air" : "");
  if (editing.has(question.id)) {
    editor(li, question);
    return;
  }
  if (answering.has(question.id)) {
    answerEditor(li, question);
    return;
  }
  li.append(
    el("p", { class: "question-text" }, question.text),
    el("p", { class: "question-meta" },
      el("span", { class: "question-name" }, question.name || t("Anonym")),
      addressee(store.event, question) ? el("span", { class: "question-to" }, addressee(store.event, question)) : null,
      el("span", {}, question.votes === 1 ? t("1 Stimme") : t("{count} Stimmen", { count: question.votes })),
      el("time", { datetime: question.created_at }, formatTime(question.created_at))),
    ...(question.answer ? [el("div", { class: "written-answer" },
      el("p", { class: "written-answer-label" }, t("Schriftliche Antwort")), el("p", {}, question.answer))] : []),
    ...abuseNotes(question),
    el("div", { class: "actions" }, actionsFor(question)),
    abuseActions(question),
    ...(historyOpen.has(question.id) ? [deviceHistory(question)] : []), // DOM append() would write "null"
  );
}

const render = perFrame(() => {
  drawPanelistFilter();
  const signature = (q) => JSON.stringify(
    [q, store.onAirId === q.id, editing.has(q.id), answering.has(q.id), addressee(store.event, q), noteOf(q),
      historyOpen.has(q.id) ? histories.get(q.id) || "loading" : null, abuseBusy.has(q.id)]);
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

const panelistFilter = document.querySelector("[data-panelist-filter]");
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

function onMessage(message) {
  if (message.type === MessageType.REACTIONS) {
    reactionMeter.update(message);
    return;
  }
  if (message.type === MessageType.SNAPSHOT) loadNotes();
  if (message.type === MessageType.MODERATION_NOTES) {
    applyNotes(message, message.seq);
    return;
  }
  if (message.type === MessageType.POLL && pollStore.get(message.poll.id)?.state !== message.poll.state) {
    pollNotice.delete(message.poll.id); // someone else changed it: the last outcome no longer describes it
  }
  studio.apply(message);
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) agenda.update(message.event);
  if (pollStore.apply(message)) renderPolls();
  const before = message.question ? store.questions.get(message.question.id) : null;
  if (!store.apply(message)) return;
  if (message.type === MessageType.QUESTION && !before && message.question.status === "pending") {
    announce(t("Neue Frage im Eingang."));
  }
  render();
}

// ---------------------------------------------------------------- polls

const pollStore = new PollStore({ staff: true });
const pollList = document.querySelector("[data-poll-admin-list]");
const pollConfirm = new Map(); // poll id -> "reset" | "delete" while the moderator is asked to confirm
const pollBusy = new Set();
const pollNotice = new Map(); // poll id -> {text, kind}: the outcome of the last action, shown on the card
const MAX_OPTIONS = 12;
const MAX_OPTION_LENGTH = 100;

const POLL_ERROR_TEXTS = {
  poll_not_found: t("Diese Umfrage gibt es nicht mehr."),
  poll_open: t("Eine laufende Umfrage kann nicht gelöscht werden. Bitte beenden Sie sie zuerst."),
  poll_not_editable: t("Eine gestartete Umfrage kann nicht mehr geändert werden. Setzen Sie sie dafür zuerst zurück."),
  invalid_transition: t("Das geht im jetzigen Zustand der Umfrage nicht."),
};

const POLL_FIELD_TEXTS = {
  title: t("Bitte geben Sie eine Frage mit höchstens 200 Zeichen ein."),
  options: t("Bitte prüfen Sie die Antwortmöglichkeiten: 2 bis {max}, keine doppelt, je höchstens {length} Zeichen.",
    { max: MAX_OPTIONS, length: MAX_OPTION_LENGTH }),
  max_choices: t("„Höchstens wählbar“ muss zwischen 2 und der Zahl der Antwortmöglichkeiten liegen."),
  scale_max: t("Die Skala kann 1 bis 5 oder 1 bis 10 sein."),
  results_visibility: t("Bitte wählen Sie, wann das Publikum die Ergebnisse sieht."),
};

function explainPoll(poll, error) {
  let text = POLL_ERROR_TEXTS[error.code];
  if (!text && error.status === 422) text = POLL_FIELD_TEXTS[error.details?.field];
  if (text) say(text, "error");
  else explain(error);
  // The toast is at the top of the page; the card may be far below, so it says it there as well (not aloud).
  pollNotice.set(poll.id, { text: toast.textContent, kind: "error" });
}

async function changePoll(poll, method, body, doneText) {
  if (pollBusy.has(poll.id)) return; // a double click sends once
  pollBusy.add(poll.id);
  try {
    const updated = await api(method, `${base}/polls/${poll.id}`, body);
    if (method === "DELETE") pollStore.polls.delete(poll.id);
    else {
      if (body.position !== undefined) pollStore.move(poll.id, updated.position);
      pollStore.upsert(updated);
    }
    say(t("{action}: „{text}“", { action: doneText, text: shorten(poll.title) }));
    if (method === "DELETE") pollNotice.delete(poll.id);
    else pollNotice.set(poll.id, { text: `${doneText}.`, kind: "ok" });
  } catch (error) {
    explainPoll(poll, error);
  } finally {
    pollBusy.delete(poll.id);
    renderPolls();
  }
}

function pollSummary(poll) {
  const parts = [KIND_LABELS[poll.kind]];
  if (CHOICE_KINDS.includes(poll.kind)) parts.push(t("{count} Antwortmöglichkeiten", { count: poll.options.length }));
  if (poll.kind === "multiple") {
    parts.push(poll.max_choices ? t("höchstens {max} wählbar", { max: poll.max_choices }) : t("beliebig viele wählbar"));
  }
  if (poll.kind === "rating") parts.push(t("Skala 1 bis {max}", { max: poll.scale_max }));
  if (poll.state === "open" && poll.opened_at) parts.push(t("läuft seit {time} Uhr", { time: formatTime(poll.opened_at) }));
  if (poll.state === "closed" && poll.closed_at) parts.push(t("beendet um {time} Uhr", { time: formatTime(poll.closed_at) }));
  return parts.join(" · ");
}

function focusLater(li, action) {
  // After the redraw that perFrame has queued for this frame.
  requestAnimationFrame(() => {
    const target = pollList.querySelector(`li[data-id="${li.dataset.id}"] [data-action="${action}"]`);
    if (target) target.focus();
  });
}

function pollActions(li, poll, index, count) {
  const asking = pollConfirm.get(poll.id);
  if (asking) {
    const question = asking === "delete"
      ? t("Diese Umfrage mit allen Antworten endgültig löschen?")
      : t("Alle Antworten löschen und die Umfrage wieder zum Entwurf machen?");
    const cancel = () => {
      pollConfirm.delete(poll.id);
      renderPolls();
      focusLater(li, asking);
    };
    const confirm = () => {
      pollConfirm.delete(poll.id);
      if (asking === "delete") changePoll(poll, "DELETE", undefined, t("Gelöscht"));
      else changePoll(poll, "PATCH", { state: "draft" }, t("Zurückgesetzt"));
    };
    return el("div", {
      class: "poll-confirm", role: "group", "aria-label": t("Bestätigung"),
      onkeydown: (event) => event.key === "Escape" && cancel(),
    },
      el("p", {}, question),
      el("div", { class: "actions" },
        actionButton(asking === "delete" ? t("Ja, löschen") : t("Ja, zurücksetzen"), "confirm", confirm, "button-danger"),
        actionButton(t("Abbrechen"), "cancel", cancel, "button-quiet")));
  }
  const ask = (what) => () => {
    pollConfirm.set(poll.id, what);
    renderPolls();
    focusLater(li, "confirm");
  };
  const buttons = [];
  if (poll.state === "draft") {
    buttons.push(actionButton(t("Starten"), "start", () => changePoll(poll, "PATCH", { state: "open" }, t("Gestartet")), "button-primary"));
  } else if (poll.state === "open") {
    buttons.push(actionButton(t("Beenden"), "close", () => changePoll(poll, "PATCH", { state: "closed" }, t("Beendet")), "button-air"));
  } else {
    buttons.push(actionButton(t("Wieder öffnen"), "reopen", () => changePoll(poll, "PATCH", { state: "open" }, t("Wieder geöffnet"))));
    buttons.push(actionButton(t("Zurücksetzen"), "reset", ask("reset"), "button-danger"));
  }
  if (poll.state !== "open") buttons.push(actionButton(t("Löschen"), "delete", ask("delete"), "button-danger"));
  // At the top (or bottom) its own button is disabled; keyboard focus goes to the other one, not lost.
  const up = el("button", {
    type: "button", class: "button button-quiet", "data-action": "up", disabled: index === 0,
    onclick: async () => {
      await changePoll(poll, "PATCH", { position: index }, t("Nach oben verschoben"));
      if (index === 1) focusLater(li, "down");
    },
  }, el("span", { "aria-hidden": "true" }, "↑"), t("Nach oben"));
  const down = el("button", {
    type: "button", class: "button button-quiet", "data-action": "down", disabled: index === count - 1,
    onclick: async () => {
      await changePoll(poll, "PATCH", { position: index + 2 }, t("Nach unten verschoben"));
      if (index === count - 2) focusLater(li, "up");
    },
  }, el("span", { "aria-hidden": "true" }, "↓"), t("Nach unten"));
  return el("div", { class: "actions" }, buttons, up, down);
}

function renderPollAdmin(li, poll) {
  const polls = pollStore.list();
  const index = polls.findIndex((p) => p.id === poll.id);
  li.className = `poll-admin-card state-${poll.state}`;
  const selectId = `admin-poll-${poll.id}-visibility`;
  const visibility = el("select", { id: selectId, "data-action": "visibility" },
    Object.entries(VISIBILITY_LABELS).map(([value, label]) =>
      el("option", { value, selected: value === poll.results_visibility }, label)));
  visibility.addEventListener("change", () => changePoll(poll, "PATCH", { results_visibility: visibility.value },
    t("Ergebnisse für das Publikum: {visibility}", { visibility: VISIBILITY_LABELS[visibility.value] })));
  li.append(...[
    el("div", { class: "poll-head" },
      el("h3", { class: "poll-title" }, el("span", { class: "poll-position" }, `${index + 1}. `), poll.title),
      el("span", { class: `badge badge-poll-${poll.state}` },
        poll.state === "open" ? el("span", { "aria-hidden": "true" }, "● ") : null, STATE_LABELS[poll.state])),
    el("p", { class: "poll-meta" }, pollSummary(poll)),
    poll.state === "draft" && CHOICE_KINDS.includes(poll.kind)
      ? el("ul", { class: "poll-option-preview", "aria-label": t("Antwortmöglichkeiten") }, poll.options.map((o) => el("li", {}, o.label)))
      : null,
    el("div", { class: "poll-visibility" }, el("label", { for: selectId }, t("Ergebnisse für das Publikum:")), visibility),
    pollActions(li, poll, index, polls.length),
    pollNotice.has(poll.id)
      ? el("p", { class: `poll-notice is-${pollNotice.get(poll.id).kind}` }, pollNotice.get(poll.id).text) : null,
    el("div", { class: "poll-results-slot", "data-results": true }),
  ].filter(Boolean));
}

const renderPolls = perFrame(() => {
  const polls = pollStore.list();
  studio.setPolls(polls);
  document.querySelector("[data-poll-count]").textContent = String(polls.length);
  document.querySelector("[data-poll-empty]").hidden = polls.length > 0;
  renderKeyed(pollList, polls, renderPollAdmin, (poll) =>
    JSON.stringify([{ ...poll, results: null }, polls.indexOf(poll), polls.length, pollConfirm.get(poll.id) || null,
      pollNotice.get(poll.id) || null]));
  for (const poll of polls) {
    const slot = pollList.querySelector(`li[data-id="${poll.id}"] [data-results]`);
    const signature = JSON.stringify([poll.state, poll.results]);
    if (!slot || slot.dataset.sig === signature) continue;
    slot.dataset.sig = signature;
    const view = poll.state === "draft" ? null
      : renderResults(poll, { heading: poll.state === "closed" ? t("Endergebnis") : t("Live-Ergebnis") });
    slot.replaceChildren(...(view ? [view] : []));
  }
});

function setUpPollForm() {
  const form = document.querySelector("[data-poll-form]");
  const feedback = document.querySelector("[data-poll-form-feedback]");
  const fields = form.elements;
  const showKindFields = () => {
    for (const part of form.querySelectorAll("[data-for-kinds]")) {
      part.hidden = !part.dataset.forKinds.split(" ").includes(fields.kind.value);
    }
  };
  fields.kind.addEventListener("change", showKindFields);
  showKindFields();
  const problem = (text, field) => {
    feedback.textContent = text;
    feedback.className = "form-feedback is-error";
    field.setAttribute("aria-invalid", "true");
    field.focus();
  };
  form.addEventListener("input", (event) => event.target.removeAttribute("aria-invalid"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    feedback.className = "form-feedback";
    feedback.textContent = "";
    const kind = fields.kind.value;
    const body = { title: fields.title.value.trim(), kind, results_visibility: fields.results_visibility.value };
    if (!body.title) return problem(t("Bitte geben Sie die Frage der Umfrage ein."), fields.title);
    if (CHOICE_KINDS.includes(kind)) {
      const options = fields.options.value.split("\n").map((line) => line.trim()).filter(Boolean);
      if (options.length < 2) return problem(t("Bitte geben Sie mindestens zwei Antwortmöglichkeiten ein, eine pro Zeile."), fields.options);
      if (options.length > MAX_OPTIONS) {
        return problem(t("Bitte geben Sie höchstens {max} Antwortmöglichkeiten ein.", { max: MAX_OPTIONS }), fields.options);
      }
      if (options.some((o) => o.length > MAX_OPTION_LENGTH)) {
        return problem(t("Eine Antwortmöglichkeit darf höchstens {max} Zeichen lang sein.", { max: MAX_OPTION_LENGTH }), fields.options);
      }
      if (new Set(options).size !== options.length) return problem(t("Jede Antwortmöglichkeit darf nur einmal vorkommen."), fields.options);
      body.options = options;
      if (kind === "multiple") {
        const raw = fields.max_choices.value.trim();
        const max = raw === "" ? null : Number(raw);
        if (max !== null && !(Number.isInteger(max) && max >= 2 && max <= options.length)) {
          return problem(t("„Höchstens wählbar“ muss eine Zahl von 2 bis {max} sein, oder leer.", { max: options.length }),
            fields.max_choices);
        }
        body.max_choices = max;
      }
    }
    if (kind === "rating") body.scale_max = Number(fields.scale_max.value);
    const submit = form.querySelector("[data-poll-create]");
    submit.disabled = true;
    try {
      const poll = await api("POST", `${base}/polls`, body);
      pollStore.upsert(poll);
      fields.title.value = "";
      fields.options.value = "";
      fields.max_choices.value = "";
      feedback.textContent = t("Entwurf gespeichert: „{title}“. Starten Sie ihn in der Liste mit „Starten“.",
        { title: shorten(poll.title) });
      feedback.className = "form-feedback is-ok";
      renderPolls();
    } catch (error) {
      if (error.status === 401) explain(error);
      const field = error.details?.field;
      feedback.textContent = POLL_ERROR_TEXTS[error.code] || POLL_FIELD_TEXTS[field]
        || (error.code === "network" ? ERROR_TEXTS.network
          : t("Die Umfrage konnte nicht gespeichert werden: {reason}", { reason: error.message || error.code }));
      feedback.className = "form-feedback is-error";
      if (field && fields[field]) fields[field].setAttribute("aria-invalid", "true");
    } finally {
      submit.disabled = false;
    }
    return undefined;
  });
}

undoButton.addEventListener("click", undo);
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea");
  if (!typing && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  }
});
setUpPollForm();
setUpWordForm();
const agenda = new AgendaControl(document.querySelector("[data-mod-agenda]"), { base, explain });
setInterval(() => agenda.update(agenda.event), 30000); // the time left moves on by itself
const studio = new StudioControl(document.querySelector("[data-studio-control]"), { base, explain });
const reactionMeter = new ReactionMeter(document.querySelector("[data-reaction-meter]"));
const connection = document.querySelector("[data-connection]");
connectLive({ slug: config.slug, onMessage, onStatus: (status) => showConnection(connection, status) });
