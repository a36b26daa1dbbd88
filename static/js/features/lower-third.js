// The overlay's lower third: the panel for what the moderator put on screen (the question on air, a poll's
// results, the join slide), which leaves before it comes back with other content.
import { $, perFrame } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { renderResults } from "./poll-results.js";
import { askerLine } from "./questions.js";
import { studioPoll } from "./studio-screen.js";

const TOP_WORDS = 8;
const LONG_QUESTION = 160; // characters; longer questions get a smaller type so the lower third stays low
const OUT_MS = 400; // as the CSS transition

function panel(name) {
  return document.querySelector(`[data-panel="${name}"]`);
}

/** `state.screen` is what the moderator put on screen ({mode, poll_id}), kept by the page. */
export function lowerThird({ questions, polls, state }) {
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  let pollSig = "";
  let current = null;
  let swapTimer = null;

  /** The panel to show and a key that changes when it must leave and come back (another question, another poll). */
  function wanted() {
    const screen = state.screen;
    if (screen.mode === "question") {
      const question = questions.onAir;
      return question ? { panel: "question", key: JSON.stringify([question.id, question.text, question.name]) } : null;
    }
    if (screen.mode === "poll") {
      const poll = screen.poll_id === null ? null : polls.get(screen.poll_id);
      return poll && poll.state !== "draft" ? { panel: "poll", key: `poll-${poll.id}` } : null;
    }
    if (screen.mode === "join") return { panel: "join", key: "join" };
    return null;
  }

  function fillQuestion() {
    const question = questions.onAir;
    if (!question) return;
    $("[data-lt-text]").textContent = question.text;
    $("[data-lt-name]").textContent = askerLine(questions.event, question);
    panel("question").classList.toggle("is-long", question.text.length > LONG_QUESTION);
  }

  function fillPoll() {
    const poll = state.screen.poll_id === null ? null : polls.get(state.screen.poll_id);
    if (!poll) return;
    const sig = JSON.stringify([poll.id, poll.title, poll.state, poll.results]);
    if (sig === pollSig) return;
    pollSig = sig;
    $("[data-lt-poll-title]").textContent = poll.title;
    $("[data-lt-poll-state]").textContent = " · " + (poll.state === "closed" ? t("Ergebnis") : t("läuft"));
    const box = renderResults(studioPoll(poll, { topWords: TOP_WORDS }),
      { heading: poll.state === "closed" ? t("Ergebnis") : t("Bisher") });
    $("[data-lt-poll-results]").replaceChildren(...(box ? [box] : []));
  }

  function fill(name) {
    if (name === "question") fillQuestion();
    else if (name === "poll") fillPoll();
  }

  const draw = perFrame(() => {
    const next = wanted();
    if (current && next && current.panel === next.panel && current.key === next.key) {
      // Results move in place while the panel stays (not while it is still leaving for another poll).
      if (next.panel === "poll" && panel("poll").classList.contains("is-shown")) fillPoll();
      return;
    }
    clearTimeout(swapTimer);
    const leaving = current;
    if (leaving) panel(leaving.panel).classList.remove("is-shown");
    current = next;
    if (!next) return;
    const enter = () => {
      pollSig = "";
      fill(next.panel);
      panel(next.panel).classList.add("is-shown");
    };
    // Out first, then in with the new content: a lower third never changes its text while on screen.
    if (leaving && !reducedMotion.matches) swapTimer = setTimeout(enter, OUT_MS);
    else enter();
  });

  return { draw };
}
