// The presenter screen's drawing: the slide the moderator chose (question, poll, join slide or idle) with its text
// fitted to the screen, the next questions, a clock and the time left in the agenda item.
import { $, el, perFrame, renderKeyed } from "../lib/dom.js";
import { votesText } from "../lib/format.js";
import { LOCALE, t } from "../lib/i18n.js";
import { currentAgendaItem, timeLeftText } from "./agenda.js";
import { renderResults } from "./poll-results.js";
import { addressee, askerLine } from "./questions.js";
import { studioPoll } from "./studio-screen.js";

const NEXT_COUNT = 5;
const TOP_WORDS = 24;

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

/** `state.screen` is what the moderator put on screen ({mode, poll_id}), kept by the page. */
export function presenterScreen({ questions, polls, state }) {
  const stage = $("[data-stage]");
  const questionBox = $("[data-question-box]");
  const pollBox = $("[data-poll-box]");
  const idleTitle = $("[data-idle-title]");
  const clockFormat = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit" });
  let lastQuestionSig = "";
  let lastPollSig = "";
  let fitted = { mode: null, width: 0, height: 0 };
  // Fit again on the next draw whatever the sizes say: the layout before the first snapshot and before the fonts
  // are in is not the one the slide ends up with (a title fitted then stayed at a fraction of the screen).
  let refitNext = true;

  function showSlide(mode) {
    stage.dataset.mode = mode;
    for (const slide of stage.querySelectorAll("[data-slide]")) slide.hidden = slide.dataset.slide !== mode;
  }

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

  function drawPoll() {
    const poll = state.screen.poll_id === null ? null : polls.get(state.screen.poll_id);
    const sig = poll ? JSON.stringify([poll.id, poll.title, poll.state, poll.results]) : "";
    if (sig === lastPollSig) return false;
    lastPollSig = sig;
    $("[data-poll-title]").textContent = poll ? poll.title : t("Diese Umfrage gibt es nicht mehr.");
    $("[data-poll-state]").textContent = poll
      ? (poll.state === "closed" ? "– " + t("beendet") : poll.state === "open" ? "– " + t("läuft") : "")
      : "";
    const results = poll ? renderResults(studioPoll(poll, { topWords: TOP_WORDS }),
      { heading: poll.state === "closed" ? t("Ergebnis") : t("Bisher") }) : null;
    $("[data-poll-results]").replaceChildren(...(results ? [results] : []));
    return true;
  }

  function renderNext(li, question) {
    li.className = "next-item";
    li.append(
      el("p", { class: "next-text" }, question.text),
      el("p", { class: "next-meta" },
        el("span", { class: "next-votes" }, el("span", { "aria-hidden": "true" }, `▲ ${question.votes}`),
          el("span", { class: "visually-hidden" }, votesText(question.votes))),
        el("span", { class: "next-name" }, question.name || t("Anonym")),
        addressee(questions.event, question) ? el("span", { class: "next-name" }, addressee(questions.event, question)) : null),
    );
  }

  function nextQuestions() {
    return questions.list({ statuses: ["approved"], sort: "popular" }).filter((q) => q.id !== questions.onAirId);
  }

  function refit(force = false) {
    const mode = state.screen.mode;
    // The title's own box counts too: it can change size while the stage does not (the strip below it filling in
    // on a loaded machine), and a title fitted into the smaller box before stayed small.
    const box = idleTitle.parentElement;
    const size = { mode, width: stage.clientWidth, height: stage.clientHeight, boxWidth: box.clientWidth,
      boxHeight: box.clientHeight };
    if (!force && ["mode", "width", "height", "boxWidth", "boxHeight"].every((key) => size[key] === fitted[key])) return;
    fitted = size;
    const unit = Math.min(stage.clientWidth / 16, stage.clientHeight / 9);
    if (mode === "question" && !questionBox.hidden) fitText(questionBox, { min: 14, max: unit * 1.25 });
    else if (mode === "poll") fitText(pollBox, { min: 10, max: unit * 0.75 });
    else if (mode === "none") fitText(idleTitle, { min: 16, max: unit * 1.5 });
  }

  function drawAgenda() {
    const box = $("[data-agenda-left]");
    const text = timeLeftText(currentAgendaItem(questions.event));
    box.hidden = !text;
    if (box.textContent !== text) box.replaceChildren(...(text ? [el("span", { class: "strip-agenda-text" }, text)] : []));
  }

  const draw = perFrame(() => {
    const mode = state.screen.mode;
    if (stage.dataset.mode !== mode) showSlide(mode);
    const changedQuestion = drawQuestion();
    const changedPoll = mode === "poll" ? drawPoll() : false;
    if (mode !== "poll") lastPollSig = "";
    const title = questions.event ? questions.event.title : null;
    let changedTitle = false;
    if (title && idleTitle.textContent !== title) {
      idleTitle.textContent = title;
      $("[data-event-title]").textContent = title;
      changedTitle = true; // a new title must be fitted again, or it keeps the size of the old one
    }
    const next = nextQuestions().slice(0, NEXT_COUNT);
    const list = $("[data-next-list]");
    renderKeyed(list, next, renderNext);
    $("[data-next-empty]").hidden = next.length > 0;
    hideCutOff(list);
    refit(refitNext || changedQuestion || changedPoll || changedTitle || mode !== fitted.mode);
    refitNext = false;
    drawAgenda();
  });

  function tick() {
    const clock = $("[data-clock]");
    const now = new Date();
    clock.textContent = clockFormat.format(now);
    clock.setAttribute("datetime", now.toISOString());
    drawAgenda();
  }

  /** Fits the slide and the strip again when the screen (or the window) changes size, and once the fonts are in. */
  function watchSize() {
    const observer = new ResizeObserver(() => {
      refit();
      hideCutOff($("[data-next-list]"));
    });
    observer.observe(stage);
    observer.observe(idleTitle.parentElement);
    document.fonts?.ready.then(() => fitAgain());
  }

  /** The next draw fits the slide anew (after the first snapshot: the real title, the real layout). */
  function fitAgain() {
    refitNext = true;
    draw();
  }

  return { draw, tick, nextQuestions, watchSize, fitAgain, initialMode: () => stage.dataset.mode || "none" };
}
