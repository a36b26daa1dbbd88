// The viewer page: stream consent, asking, upvoting, and the live question list.
import { announce, api, localiseTimes, pageConfig } from "./api.js";
import { setUpStream } from "./consent.js";
import { connectLive, showConnection } from "./live.js";
import { MessageType } from "./protocol.js";
import { el, perFrame, QuestionStore, renderKeyed, STATUS_LABELS } from "./questions.js";

const MAX_TEXT = 300;
const config = pageConfig();
const store = new QuestionStore();
let sort = "popular";

const $ = (selector) => document.querySelector(selector);
const publicList = $("[data-public-list]");
const mineList = $("[data-mine-list]");

const ERROR_TEXTS = {
  questions_closed: "Zurzeit werden keine Fragen angenommen.",
  not_votable: "Diese Frage kann nicht mehr unterstützt werden.",
  body_too_large: "Der Text ist zu lang.",
  network: "Keine Verbindung zum Server. Bitte versuchen Sie es gleich noch einmal.",
};

function questionMeta(question) {
  return el("p", { class: "question-meta" },
    el("span", { class: "question-name" }, question.name || "Anonym"),
    question.status === "answered" ? el("span", { class: "badge badge-answered" }, "Beantwortet") : null,
    question.id === store.onAirId ? el("span", { class: "badge badge-on-air" }, "Auf Sendung") : null,
  );
}

function renderPublic(li, question) {
  const voted = store.voted.has(question.id);
  const canVote = question.status === "approved";
  li.className = "question" + (question.id === store.onAirId ? " is-on-air" : "")
    + (question.status === "answered" ? " is-answered" : "");
  const label = voted
    ? `Sie unterstützen diese Frage. ${question.votes} Stimmen`
    : `Frage unterstützen. Bisher ${question.votes} Stimmen`;
  li.append(
    el("div", { class: "question-body" },
      el("p", { class: "question-text" }, question.text),
      questionMeta(question)),
    el("button", {
      type: "button", class: "vote" + (voted ? " is-voted" : ""), "data-action": "vote",
      "aria-label": label, "aria-pressed": String(voted), disabled: !canVote || voted,
      onclick: () => vote(question.id),
    }, el("span", { "aria-hidden": "true" }, "▲"), el("span", { class: "vote-count" }, String(question.votes))),
  );
}

function renderMine(li, question) {
  li.className = `question mine-item status-${question.status}`;
  li.append(
    el("p", { class: "question-text" }, question.text),
    el("p", { class: "question-meta" },
      el("span", { class: `badge badge-${question.status}` }, STATUS_LABELS[question.status]),
      question.name ? el("span", { class: "question-name" }, question.name) : el("span", { class: "question-name" }, "Anonym")),
  );
}

const render = perFrame(() => {
  const onAirKey = (q) => JSON.stringify([q, store.onAirId === q.id, store.voted.has(q.id)]);
  const visible = store.list({ statuses: ["approved", "answered"], sort });
  renderKeyed(publicList, visible, renderPublic, onAirKey);
  $("[data-public-empty]").hidden = visible.length > 0;
  $("[data-public-count]").textContent = visible.length ? `(${visible.length})` : "";
  const mine = store.list({ mineOnly: true });
  renderKeyed(mineList, mine, renderMine);
  $("[data-mine-section]").hidden = mine.length === 0;
  const onAir = store.onAir;
  const box = $("[data-on-air]");
  box.hidden = !onAir;
  if (onAir) {
    $("[data-on-air-text]").textContent = onAir.text;
    $("[data-on-air-name]").textContent = onAir.name ? `Gefragt von ${onAir.name}` : "";
  }
});

async function vote(questionId) {
  try {
    const result = await api("POST", `/api/events/${encodeURIComponent(config.slug)}/questions/${questionId}/votes`);
    store.voted.add(questionId);
    const question = store.questions.get(questionId);
    if (question) question.votes = Math.max(question.votes, result.votes);
    announce("Ihre Stimme wurde gezählt.");
    render();
  } catch (error) {
    announce(ERROR_TEXTS[error.code] || "Die Stimme konnte nicht gezählt werden.");
  }
}

function setUpAskForm() {
  const form = $("[data-ask-form]");
  const textarea = form.querySelector("textarea");
  const counter = $("[data-counter]");
  const feedback = $("[data-ask-feedback]");
  const submit = $("[data-ask-submit]");
  const updateCounter = () => {
    counter.textContent = `${textarea.value.length} von ${MAX_TEXT} Zeichen`;
  };
  textarea.addEventListener("input", updateCounter);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    feedback.className = "form-feedback";
    if (!text) {
      feedback.textContent = "Bitte schreiben Sie zuerst Ihre Frage.";
      feedback.classList.add("is-error");
      textarea.focus();
      return;
    }
    submit.disabled = true;
    try {
      const name = form.elements.name.value.trim();
      const question = await api("POST", `/api/events/${encodeURIComponent(config.slug)}/questions`,
        { text, name: name || null });
      store.upsert(question, { mine: true });
      textarea.value = "";
      updateCounter();
      feedback.textContent = "Danke! Ihre Frage ist angekommen. Sie erscheint für alle, sobald die Moderation sie freigibt.";
      feedback.classList.add("is-ok");
      render();
    } catch (error) {
      feedback.textContent = ERROR_TEXTS[error.code]
        || (error.status === 422 ? "Bitte prüfen Sie Ihre Eingabe: " + error.message : "Die Frage konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal.");
      feedback.classList.add("is-error");
    } finally {
      submit.disabled = false;
    }
  });
}

function setUpSort() {
  for (const button of document.querySelectorAll("[data-sort]")) {
    button.addEventListener("click", () => {
      sort = button.dataset.sort;
      for (const other of document.querySelectorAll("[data-sort]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      render();
    });
  }
}

function onMessage(message) {
  const before = store.questions.get(message.question?.id);
  if (!store.apply(message)) return;
  if (message.type === MessageType.QUESTION) {
    const question = message.question;
    if (question.status === "approved" && (!before || before.status === "pending")) {
      announce(before && before.mine ? "Ihre Frage wurde freigegeben." : "Neue Frage: " + question.text);
    } else if (question.status === "rejected" && before && before.mine) {
      announce("Ihre Frage wurde nicht angenommen.");
    }
  } else if (message.type === MessageType.ON_AIR && message.question) {
    announce("Jetzt auf Sendung: " + message.question.text);
  }
  render();
}

localiseTimes();
setUpStream();
setUpAskForm();
setUpSort();
const connection = $("[data-connection]");
connectLive({ slug: config.slug, onMessage, onStatus: (status) => showConnection(connection, status) });
