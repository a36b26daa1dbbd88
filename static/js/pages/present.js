// The presenter screen: what the moderator puts on screen (question, poll, join slide or idle), the next
// questions, a clock and the time left in the agenda item. Host shortcuts only with a moderator login.
import { currentAgendaItem, timeLeftText } from "../features/agenda.js";
import { api, pageConfig } from "../lib/api.js";
import { LOCALE, t } from "../lib/i18n.js";
import { connectLive, showConnection } from "../lib/live.js";
import { PollStore, renderResults } from "../features/polls.js";
import { MessageType } from "../lib/protocol.js";
import { addressee, askerLine, el, perFrame, QuestionStore, renderKeyed } from "../features/questions.js";

const NEXT_COUNT = 5;
const TOP_WORDS = 24;

const config = pageConfig();
const isHost = config.role === "moderator";
const questions = new QuestionStore({ staff: true });
const polls = new PollStore({ staff: true });
const state = { screen: { mode: "none", poll_id: null } };

const $ = (selector) => document.querySelector(selector);
const stage = $("[data-stage]");
const questionBox = $("[data-question-box]");
const pollBox = $("[data-poll-box]");
const idleTitle = $("[data-idle-title]");
const feedback = $("[data-feedback]");

// ---------------------------------------------------------------- drawing

/** What the moderator put on screen, from the snapshot, `screen` and `event` messages. */
function applyScreen(message) {
  const screen = message.type === MessageType.SCREEN ? message.screen
    : message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT ? message.event && message.event.screen
      : null;
  if (screen) state.screen = { mode: screen.mode || "none", poll_id: screen.poll_id ?? null };
}

/**
 * The largest font size (px) between min and max at which the box's content fits the box without scrolling:
 * a binary search, as text wraps in steps. The box must have a fixed size and `overflow: hidden`.
 */
function fitText(box, { min, max }) {
  const fits = () => box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1;
  let low = min;
  let high = Math.max(min, max);
  box.style.fontSize = `${high}px`;
  if (fits()) return high;
  for (let i = 0; i < 12 && high - low > 0.5; i += 1) {
    const middle = (low + high) / 2;
    box.style.fontSize = `${middle}px`;
    if (fits()) low = middle;
    else high = middle;
  }
  box.style.fontSize = `${low}px`;
  return low;
}

function showSlide(mode) {
  stage.dataset.mode = mode;
  for (const slide of stage.querySelectorAll("[data-slide]")) slide.hidden = slide.dataset.slide !== mode;
}

let lastQuestionSig = "";
let lastPollSig = "";

function drawQuestion() {
  const question = questions.onAir;
  $("[data-question-empty]").hidden = Boolean(question);
  questionBox.hidden = !question;
  const sig = question ? JSON.stringify([question.id, question.text, askerLine(questions.event, question)]) : "";
  if (sig === lastQuestionSig) return false;
  lastQuestionSig = sig;
  $("[data-question-text]").textContent = question ? question.text : "";
  $("[data-question-name]").textContent = question ? askerLine(questions.event, question) : "";
  return true;
}

/** A poll without results yet (just launched, or reset) is shown with zero answers, not as an empty slide. */
function withResults(poll) {
  if (poll.results) {
    if (poll.kind !== "words") return poll;
    return { ...poll, results: { ...poll.results, words: (poll.results.words || []).slice(0, TOP_WORDS) } };
  }
  const empty = { total: 0 };
  if (poll.kind === "rating") {
    empty.mean = null;
    empty.values = Array.from({ length: poll.scale_max }, (_, i) => ({ value: i + 1, count: 0, percent: 0 }));
  } else if (poll.kind === "words") {
    empty.words = [];
  } else {
    empty.options = poll.options.map((option) => ({ id: option.id, count: 0, percent: 0 }));
  }
  return { ...poll, results: empty };
}

function drawPoll() {
  const poll = state.screen.poll_id === null ? null : polls.get(state.screen.poll_id);
  const sig = poll ? JSON.stringify([poll.id, poll.title, poll.state, poll.results]) : "";
  if (sig === lastPollSig) return false;
  lastPollSig = sig;
  $("[data-poll-title]").textContent = poll ? poll.title : t("Diese Umfrage gibt es nicht mehr.");
  $("[data-poll-state]").textContent = poll
    ? (poll.state === "closed" ? "– " + t("beendet") : poll.state === "open" ? "– " + t("läuft") : "")
    : "";
  const results = poll ? renderResults(withResults(poll), { heading: poll.state === "closed" ? t("Ergebnis") : t("Bisher") }) : null;
  $("[data-poll-results]").replaceChildren(...(results ? [results] : []));
  return true;
}

function renderNext(li, question) {
  li.className = "next-item";
  li.append(
    el("p", { class: "next-text" }, question.text),
    el("p", { class: "next-meta" },
      el("span", { class: "next-votes" }, el("span", { "aria-hidden": "true" }, `▲ ${question.votes}`),
        el("span", { class: "visually-hidden" },
          question.votes === 1 ? t("1 Stimme") : t("{count} Stimmen", { count: question.votes }))),
      el("span", { class: "next-name" }, question.name || t("Anonym")),
      addressee(questions.event, question) ? el("span", { class: "next-name" }, addressee(questions.event, question)) : null),
  );
}

function nextQuestions() {
  return questions.list({ statuses: ["approved"], sort: "popular" }).filter((q) => q.id !== questions.onAirId);
}

/** Questions that do not fit the strip completely are left out rather than shown cut in half. */
function hideCutOff(list) {
  const bottom = list.getBoundingClientRect().bottom;
  for (const li of list.children) li.hidden = false;
  let cut = false;
  for (const li of list.children) {
    cut = cut || li.getBoundingClientRect().bottom > bottom + 1;
    li.hidden = cut;
  }
}

let fitted = { mode: null, width: 0, height: 0 };

function refit(force = false) {
  const mode = state.screen.mode;
  const size = { mode, width: stage.clientWidth, height: stage.clientHeight };
  if (!force && size.mode === fitted.mode && size.width === fitted.width && size.height === fitted.height) return;
  fitted = size;
  const unit = Math.min(stage.clientWidth / 16, stage.clientHeight / 9);
  if (mode === "question" && !questionBox.hidden) fitText(questionBox, { min: 14, max: unit * 1.25 });
  else if (mode === "poll") fitText(pollBox, { min: 10, max: unit * 0.75 });
  else if (mode === "none") fitText(idleTitle, { min: 16, max: unit * 1.5 });
}

const draw = perFrame(() => {
  const mode = state.screen.mode;
  if (stage.dataset.mode !== mode) showSlide(mode);
  const changedQuestion = drawQuestion();
  const changedPoll = mode === "poll" ? drawPoll() : false;
  if (mode !== "poll") lastPollSig = "";
  const title = questions.event ? questions.event.title : null;
  if (title && idleTitle.textContent !== title) {
    idleTitle.textContent = title;
    $("[data-event-title]").textContent = title;
  }
  const next = nextQuestions().slice(0, NEXT_COUNT);
  const list = $("[data-next-list]");
  renderKeyed(list, next, renderNext);
  $("[data-next-empty]").hidden = next.length > 0;
  hideCutOff(list);
  refit(changedQuestion || changedPoll || mode !== fitted.mode);
  drawAgenda();
});

// ---------------------------------------------------------------- clock and agenda

const clockFormat = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit" });

function drawAgenda() {
  const box = $("[data-agenda-left]");
  const text = timeLeftText(currentAgendaItem(questions.event));
  box.hidden = !text;
  if (box.textContent !== text) box.replaceChildren(...(text ? [el("span", { class: "strip-agenda-text" }, text)] : []));
}

function tick() {
  const clock = $("[data-clock]");
  const now = new Date();
  clock.textContent = clockFormat.format(now);
  clock.setAttribute("datetime", now.toISOString());
  drawAgenda();
}

// ---------------------------------------------------------------- host shortcuts

// Host actions run one after the other: a key pressed while the last action is still on its way waits for it
// (and then acts on the state it left) instead of being dropped.
let actions = Promise.resolve();

function inTurn(action) {
  actions = actions.then(action, action);
}

let sayTimer = null;

function say(text, kind = "ok") {
  feedback.textContent = text;
  feedback.dataset.kind = kind;
  clearTimeout(sayTimer);
  sayTimer = setTimeout(() => {
    feedback.textContent = "";
  }, 8000);
}

async function patchQuestion(question, body, done) {
  try {
    const updated = await api("PATCH", `/api/events/${encodeURIComponent(config.slug)}/questions/${question.id}`,
      { ...body, version: question.version });
    questions.upsert(updated);
    say(done);
  } catch (error) {
    say(error.code === "version_conflict"
      ? t("Die Frage wurde gerade geändert. Bitte noch einmal versuchen.")
      : error.code === "unauthorized" || error.code === "forbidden"
        ? t("Keine Berechtigung – bitte neu anmelden.")
        : t("Das hat nicht geklappt. Bitte noch einmal versuchen."), "error");
  } finally {
    draw();
  }
}

let ready = false; // the first snapshot has arrived: before it, "no question" only means "not known yet"

function putNextOnAir() {
  if (!ready) {
    say(t("Noch keine Verbindung – bitte gleich noch einmal."), "error");
    return;
  }
  inTurn(async () => {
    const [next] = nextQuestions();
    if (!next) {
      say(t("Keine freigegebene Frage mehr."), "error");
      return;
    }
    await patchQuestion(next, { highlighted: true }, t("Nächste Frage ist auf Sendung."));
  });
}

function markAnswered() {
  if (!ready) {
    say(t("Noch keine Verbindung – bitte gleich noch einmal."), "error");
    return;
  }
  inTurn(async () => {
    const question = questions.onAir;
    if (!question) {
      say(t("Gerade ist keine Frage auf Sendung."), "error");
      return;
    }
    await patchQuestion(question, { status: "answered" }, t("Frage als beantwortet markiert."));
  });
}

// ---------------------------------------------------------------- fullscreen

const fullscreenButton = $("[data-fullscreen]");

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
}

function onFullscreenChange() {
  const on = Boolean(document.fullscreenElement);
  fullscreenButton.setAttribute("aria-pressed", String(on));
  fullscreenButton.textContent = on ? t("Vollbild beenden") : t("Vollbild");
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
  const key = event.key.toLowerCase();
  if (key === "f") {
    event.preventDefault();
    toggleFullscreen();
  } else if (isHost && key === "n") {
    event.preventDefault();
    putNextOnAir();
  } else if (isHost && key === "a") {
    event.preventDefault();
    markAnswered();
  }
}

// ---------------------------------------------------------------- live

function onMessage(message) {
  if (message.type === MessageType.SNAPSHOT && config.role === "studio" && message.role !== "studio") {
    // The link was revoked while the page was open: show nothing that is no longer meant for this screen.
    live.stop();
    state.screen = { mode: "none", poll_id: null };
    showConnection($("[data-connection]"), { state: "gone" });
    $("[data-connection-text]").textContent = t("Dieser Studio-Link ist nicht mehr gültig.");
    draw();
    return;
  }
  if (message.type === MessageType.SNAPSHOT) ready = true;
  applyScreen(message);
  if (message.type === MessageType.EVENT) questions.event = message.event;
  questions.apply(message);
  polls.apply(message);
  draw();
}

const live = connectLive({
  slug: config.slug,
  studio: config.token,
  onMessage,
  onStatus: (status) => showConnection($("[data-connection]"), status),
});

state.screen = { mode: stage.dataset.mode || "none", poll_id: null };
fullscreenButton.addEventListener("click", toggleFullscreen);
document.addEventListener("fullscreenchange", onFullscreenChange);
document.addEventListener("keydown", onKey);
new ResizeObserver(() => {
  refit();
  hideCutOff($("[data-next-list]"));
}).observe(stage);
tick();
setInterval(tick, 1000);
draw();
