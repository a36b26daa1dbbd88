// The viewer page's polls: a card per open poll (and per finished one with something to show), answering, the
// results, and the banner when a poll opens. Live results redraw only their slot, never the half-filled answer.
import { $, announce, el, perFrame, renderKeyed } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { LIMITS } from "../lib/limits.js";
import { MessageType } from "../lib/protocol.js";
import { pollBanner } from "./poll-banner.js";
import { pollTitleId, renderBallotForm } from "./poll-ballot.js";
import { renderResults } from "./poll-results.js";
import { describeBallot, PollStore } from "./polls.js";
import { eventPhase } from "./phase.js";
import { ERROR_TEXTS } from "./viewer-errors.js";

const POLL_ERROR_TEXTS = {
  poll_not_open: t("Diese Umfrage ist bereits beendet."),
  event_ended: t("Die Veranstaltung ist beendet: Umfragen sind geschlossen."),
  event_not_started: t("Die Veranstaltung hat noch nicht begonnen."),
  poll_not_found: t("Diese Umfrage gibt es nicht mehr."),
  blocked_text: t("Dieses Wort können wir nicht anzeigen."),
  body_too_large: t("Der Text ist zu lang."),
  rate_limited: t("Bitte warten Sie einen Moment, bevor Sie erneut antworten."),
  no_device: t("Bitte laden Sie die Seite neu und versuchen Sie es dann noch einmal."),
  network: ERROR_TEXTS.network,
};

function pollErrorText(poll, error) {
  if (POLL_ERROR_TEXTS[error.code]) return POLL_ERROR_TEXTS[error.code];
  if (error.status === 422) {
    if (poll.kind === "words") {
      return t("Bitte geben Sie ein Wort mit höchstens {max} Zeichen ein.", { max: LIMITS.word_answer });
    }
    if (poll.kind === "multiple" && poll.max_choices) {
      return t("Bitte wählen Sie mindestens eine und höchstens {max} Antworten.", { max: poll.max_choices });
    }
    return t("Bitte prüfen Sie Ihre Antwort.");
  }
  return t("Ihre Antwort konnte nicht gezählt werden. Bitte versuchen Sie es noch einmal.");
}

function pollResultsView(poll) {
  const results = renderResults(poll, {
    mine: poll.my_ballot, heading: poll.state === "closed" ? t("Endergebnis") : t("Zwischenstand"),
  });
  if (results) return results;
  if (poll.results_visibility === "after_close" && poll.state === "open") {
    return el("p", { class: "hint poll-results-note" }, t("Die Ergebnisse erscheinen, sobald die Umfrage beendet ist."));
  }
  if (poll.results_visibility === "never") {
    return el("p", { class: "hint poll-results-note" }, t("Die Ergebnisse dieser Umfrage werden hier nicht veröffentlicht."));
  }
  return null;
}

/** `currentEvent()` gives the event as the page last heard of it (for its phase). */
export function viewerPolls({ urls, actions, currentEvent = () => null }) {
  const pollStore = new PollStore();
  const pollList = $("[data-poll-list]");
  const pollDrafts = new Map(); // poll id -> what was chosen or typed but not sent yet ({options, text})
  const pollFeedback = new Map(); // poll id -> {text, kind}: the last answer's outcome
  const pollBusy = new Set();
  const pollPending = new Map(); // poll id -> the answer given while the previous one was still on its way
  const seenOpen = new Set(); // polls this page showed running: once closed they stay unfolded
  const banner = pollBanner({ pollStore, list: pollList });

  /** Open polls first (in the moderators' order), then finished ones that still have something to show. */
  function visiblePolls() {
    const polls = pollStore.list();
    const open = polls.filter((poll) => poll.state === "open");
    const closed = polls.filter((poll) => poll.state === "closed" && (poll.results || poll.my_ballot))
      .sort((a, b) => String(b.closed_at || "").localeCompare(String(a.closed_at || "")));
    return [...open, ...closed];
  }

  function draftFor(pollId) {
    if (!pollDrafts.has(pollId)) pollDrafts.set(pollId, { options: null, text: null });
    return pollDrafts.get(pollId);
  }

  function showPollFeedback(pollId, text, kind) {
    pollFeedback.set(pollId, { text, kind });
    announce(text);
    renderPolls();
  }

  async function votePoll(poll, body) {
    if (pollBusy.has(poll.id)) {
      pollPending.set(poll.id, body); // the last tap wins, sent once the one before has been answered
      return;
    }
    pollBusy.add(poll.id);
    try {
      const result = await actions.act("ballot", { poll_id: poll.id, ...body });
      pollStore.setBallot(poll.id, result.ballot);
      banner.answered(poll.id);
      const draft = draftFor(poll.id);
      if (result.ballot && typeof result.ballot.text === "string") draft.text = result.ballot.text;
      if (result.ballot && result.ballot.options) draft.options = new Set(result.ballot.options);
      showPollFeedback(poll.id, result.replaced ? t("Ihre geänderte Antwort wurde gezählt.") : t("Ihre Antwort wurde gezählt."), "ok");
    } catch (error) {
      showPollFeedback(poll.id, pollErrorText(poll, error), "error");
    } finally {
      pollBusy.delete(poll.id);
      const next = pollPending.get(poll.id);
      pollPending.delete(poll.id);
      if (next) votePoll(pollStore.get(poll.id) || poll, next);
    }
  }

  function renderPollCard(li, poll) {
    const open = poll.state === "open";
    const mine = poll.my_ballot;
    const feedback = pollFeedback.get(poll.id);
    li.className = `poll-card state-${poll.state}`;
    li.id = `poll-${poll.id}`;
    if (!open) {
      // A finished poll is one line; its result and the viewer's answer are one tap away.
      const details = el("details", { class: "poll-closed" },
        el("summary", { class: "poll-closed-summary" },
          el("h3", { class: "poll-closed-title", id: pollTitleId(poll), dir: "auto" }, poll.title),
          el("span", { class: "poll-closed-state" }, t("Umfrage beendet"))));
      // One the viewer saw running stays open with its final result: closing it must not take away what is read.
      if (seenOpen.has(poll.id)) details.open = true;
      if (mine) details.append(el("p", { class: "poll-mine" }, t("Ihre Antwort:"), " ", el("strong", { dir: "auto" }, describeBallot(poll, mine))));
      if (feedback && feedback.kind === "error") details.open = true;
      details.append(el("p", { class: "poll-feedback" + (feedback && feedback.kind === "error" ? " is-error" : "") },
        feedback && feedback.kind === "error" ? feedback.text : ""));
      details.append(el("div", { class: "poll-results-slot", "data-results": true }));
      li.append(details);
      return;
    }
    seenOpen.add(poll.id);
    li.append(el("div", { class: "poll-head" },
      el("h3", { class: "poll-title", id: pollTitleId(poll), tabindex: "-1", dir: "auto" }, poll.title),
      el("span", { class: `badge badge-poll-${poll.state}` }, [el("span", { "aria-hidden": "true" }, "● "), t("Läuft")])));
    li.append(renderBallotForm(poll, {
      draft: draftFor(poll.id),
      onVote: (body) => votePoll(poll, body),
      onInvalid: (text) => showPollFeedback(poll.id, text, "error"),
    }));
    if (mine) li.append(el("p", { class: "poll-mine" }, t("Ihre Antwort:"), " ", el("strong", { dir: "auto" }, describeBallot(poll, mine))));
    const showFeedback = Boolean(feedback);
    li.append(el("p", { class: "poll-feedback" + (showFeedback ? ` is-${feedback.kind}` : mine ? " is-ok" : "") },
      showFeedback ? feedback.text : mine ? t("Ihre Antwort wurde gezählt.") : ""));
    if (mine && !(showFeedback && feedback.kind === "error")) {
      li.append(el("p", { class: "hint" }, t("Sie können Ihre Antwort ändern, solange die Umfrage läuft.")));
    }
    li.append(el("div", { class: "poll-results-slot", "data-results": true }));
  }

  const renderPolls = perFrame(() => {
    // Before the start polls are not offered (the server takes no ballots then either).
    const polls = eventPhase(currentEvent()) === "before" ? [] : visiblePolls();
    $("[data-polls-section]").hidden = polls.length === 0;
    const sectionLink = $("[data-section-polls]"); // in the section bar: only when there is a poll to reach
    if (sectionLink) sectionLink.hidden = polls.length === 0;
    $("#polls-heading").textContent = polls.length > 1 ? t("Umfragen") : t("Umfrage");
    // The card is redrawn when the poll itself changes; results (up to four times a second) only in their slot,
    // so a half-filled answer and the keyboard focus stay where they are.
    renderKeyed(pollList, polls, renderPollCard,
      (poll) => JSON.stringify([{ ...poll, results: null }, pollFeedback.get(poll.id) || null]));
    for (const poll of polls) {
      const slot = pollList.querySelector(`li[data-id="${poll.id}"] [data-results]`);
      const signature = JSON.stringify([poll.results, poll.my_ballot, poll.state, poll.results_visibility]);
      if (!slot || slot.dataset.sig === signature) continue;
      slot.dataset.sig = signature;
      const view = pollResultsView(poll);
      slot.replaceChildren(...(view ? [view] : []));
    }
    for (const pollId of [...pollDrafts.keys()]) if (!pollStore.get(pollId)) pollDrafts.delete(pollId);
    banner.update();
  });

  function onMessage(message) {
    const before = message.type === MessageType.POLL ? pollStore.get(message.poll.id) : null;
    if (!pollStore.apply(message)) return;
    if (message.type === MessageType.POLL) {
      const poll = message.poll;
      if (poll.state === "open" && (!before || before.state !== "open")) {
        pollFeedback.delete(poll.id);
        const label = before ? t("Umfrage wieder geöffnet:") : t("Neue Umfrage:");
        banner.show(poll, label);
        announce(`${label} ${poll.title}`);
      } else if (poll.state === "closed" && before && before.state === "open") {
        announce(t("Umfrage beendet: {title}", { title: poll.title }));
      }
    }
    renderPolls();
  }

  return { onMessage, setUpBanner: banner.setUp, render: renderPolls };
}
