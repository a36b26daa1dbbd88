// The moderator page: the live queue, one-click actions, inline editing and undo.
import { announce, api, formatTime, pageConfig } from "./api.js";
import { connectLive, showConnection } from "./live.js";
import { MessageType } from "./protocol.js";
import { el, perFrame, QuestionStore, renderKeyed } from "./questions.js";

const config = pageConfig();
const store = new QuestionStore({ staff: true });
const base = `/api/events/${encodeURIComponent(config.slug)}`;
const editing = new Set();
const toast = document.querySelector("[data-toast]");
const undoButton = document.querySelector("[data-undo]");

const ACTION_DONE = {
  approved: "Freigegeben",
  rejected: "Abgelehnt",
  answered: "Als beantwortet markiert",
  pending: "Zurück in den Eingang gelegt",
};

const ERROR_TEXTS = {
  version_conflict: "Jemand anderes hat diese Frage gerade geändert. Die aktuelle Fassung wird angezeigt.",
  changed_since: "Die Frage wurde seitdem geändert; bitte von Hand korrigieren.",
  nothing_to_undo: "Es gibt keine eigene Aktion mehr zum Rückgängigmachen.",
  unauthorized: "Ihre Anmeldung ist abgelaufen. Bitte neu anmelden.",
  network: "Keine Verbindung zum Server. Die Aktion wurde nicht ausgeführt.",
};

function say(text, kind = "ok") {
  toast.textContent = text;
  toast.dataset.kind = kind;
}

function explain(error) {
  if (error.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  }
  say(ERROR_TEXTS[error.code] || `Aktion nicht möglich: ${error.message || error.code}`, "error");
}

async function change(question, body, doneText) {
  try {
    const updated = await api("PATCH", `${base}/questions/${question.id}`, body);
    store.upsert(updated);
    if (body.highlighted !== undefined) store.onAirId = updated.highlighted ? updated.id : (store.onAirId === updated.id ? null : store.onAirId);
    say(`${doneText}: „${shorten(updated.text)}“`);
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
    say(`Rückgängig gemacht: „${shorten(result.question.text)}“`);
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
  const air = actionButton(onAir ? "Von Sendung nehmen" : "Auf Sendung", onAir ? "off-air" : "on-air",
    () => change(question, { highlighted: !onAir }, onAir ? "Von Sendung genommen" : "Auf Sendung"),
    onAir ? "" : "button-air");
  const edit = actionButton("Bearbeiten", "edit", () => {
    editing.add(question.id);
    render();
  }, "button-quiet");
  switch (question.status) {
    case "pending":
      return [actionButton("Freigeben", "approve", status("approved"), "button-primary"),
        actionButton("Ablehnen", "reject", status("rejected"), "button-danger"), air, edit];
    case "approved":
      return [air, actionButton("Beantwortet", "answered", status("answered")), edit,
        actionButton("Ablehnen", "reject", status("rejected"), "button-danger")];
    case "answered":
      return [actionButton("Wieder freigeben", "approve", status("approved")), edit];
    default:
      return [actionButton("Doch freigeben", "approve", status("approved")), edit];
  }
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
    change(question, { text: textarea.value, version: question.version }, "Text geändert");
  };
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") stop();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) save();
  });
  li.append(
    el("label", { for: id }, "Text der Frage bearbeiten"),
    textarea,
    el("div", { class: "actions" },
      actionButton("Speichern", "save", save, "button-primary"),
      actionButton("Abbrechen", "cancel", stop, "button-quiet")),
  );
  requestAnimationFrame(() => textarea.focus());
}

function renderCard(li, question) {
  li.className = "question mod-card" + (store.onAirId === question.id ? " is-on-air" : "");
  if (editing.has(question.id)) {
    editor(li, question);
    return;
  }
  li.append(
    el("p", { class: "question-text" }, question.text),
    el("p", { class: "question-meta" },
      el("span", { class: "question-name" }, question.name || "Anonym"),
      el("span", {}, `${question.votes} ${question.votes === 1 ? "Stimme" : "Stimmen"}`),
      el("time", { datetime: question.created_at }, formatTime(question.created_at))),
    el("div", { class: "actions" }, actionsFor(question)),
  );
}

const render = perFrame(() => {
  const signature = (q) => JSON.stringify([q, store.onAirId === q.id, editing.has(q.id)]);
  for (const status of ["pending", "approved", "answered", "rejected"]) {
    const sort = status === "approved" ? "popular" : status === "pending" ? "oldest" : "newest";
    let items = store.list({ statuses: [status], sort: sort === "oldest" ? "newest" : sort });
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
      el("p", { class: "question-meta" }, onAir.name || "Anonym"),
      el("div", { class: "actions" },
        actionButton("Beantwortet", "answered", () => change(onAir, { status: "answered" }, ACTION_DONE.answered), "button-primary"),
        actionButton("Von Sendung nehmen", "off-air", () => change(onAir, { highlighted: false }, "Von Sendung genommen"))))
    : el("p", { class: "empty" }, "Zurzeit ist keine Frage auf Sendung."));
});

function onMessage(message) {
  const before = message.question ? store.questions.get(message.question.id) : null;
  if (!store.apply(message)) return;
  if (message.type === MessageType.QUESTION && !before && message.question.status === "pending") {
    announce("Neue Frage im Eingang.");
  }
  render();
}

undoButton.addEventListener("click", undo);
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea");
  if (!typing && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  }
});
const connection = document.querySelector("[data-connection]");
connectLive({ slug: config.slug, onMessage, onStatus: (status) => showConnection(connection, status) });
