// The viewer page: stream consent, asking, upvoting, and the live question list.
import { currentAgendaItem, markAgendaList, renderAgendaList } from "../features/agenda.js";
import { announce, api, localiseTimes, pageConfig } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { countdownText, eventPhase, renderChapters } from "../features/phase.js";
import { setUpStream } from "../features/consent.js";
import { connectLive, showConnection } from "../lib/live.js";
import { describeBallot, MAX_WORD, pollTitleId, PollStore, renderBallotForm, renderResults } from "../features/polls.js";
import { MessageType } from "../lib/protocol.js";
import { addressee, el, perFrame, QuestionStore, renderKeyed, STATUS_LABELS } from "../features/questions.js";
import { ReactionMeter, setUpReactionButtons } from "../features/reactions.js";

const MAX_TEXT = 300;
const config = pageConfig();
const store = new QuestionStore();
let sort = "popular";

const $ = (selector) => document.querySelector(selector);
const publicList = $("[data-public-list]");
const mineList = $("[data-mine-list]");

const ERROR_TEXTS = {
  questions_closed: t("Zurzeit werden keine Fragen angenommen."),
  not_votable: t("Diese Frage kann nicht mehr unterstützt werden."),
  body_too_large: t("Der Text ist zu lang."),
  rate_limited: t("Bitte warten Sie einen Moment, bevor Sie die nächste Frage stellen."),
  network: t("Keine Verbindung zum Server. Bitte versuchen Sie es gleich noch einmal."),
};

function questionMeta(question) {
  const to = addressee(store.event, question);
  return el("p", { class: "question-meta" },
    el("span", { class: "question-name" }, question.name || t("Anonym")),
    to ? el("span", { class: "question-to" }, to) : null,
    question.status === "answered" ? el("span", { class: "badge badge-answered" }, t("Beantwortet")) : null,
    question.id === store.onAirId ? el("span", { class: "badge badge-on-air" }, t("Auf Sendung")) : null,
  );
}

function writtenAnswer(question) {
  if (!question.answer) return null;
  return el("div", { class: "written-answer" },
    el("p", { class: "written-answer-label" }, t("Schriftliche Antwort")),
    el("p", {}, question.answer));
}

// ---------------------------------------------------------------- reporting a question

const REPORT_REASONS = Object.freeze({
  offensive: t("beleidigend"),
  spam: t("Spam"),
  misleading: t("falsche Angaben"),
  other: t("anderes"),
});
const reported = new Set(); // questions this device reported (from the server, so a reload remembers)
const reporting = new Set(); // questions whose report form is open
const reportBusy = new Set();

function focusInQuestion(questionId, selector) {
  // After the redraw that perFrame has queued for this frame.
  requestAnimationFrame(() => {
    const target = publicList.querySelector(`li[data-id="${questionId}"] ${selector}`);
    if (target) target.focus();
  });
}

function reportControl(question) {
  if (question.mine) return null;
  if (reported.has(question.id)) {
    return el("p", { class: "report-done" }, el("span", { "aria-hidden": "true" }, "⚑ "), t("Gemeldet"));
  }
  if (!reporting.has(question.id)) {
    return el("button", {
      type: "button", class: "report-button", "data-action": "report", "aria-expanded": "false",
      onclick: () => {
        reporting.add(question.id);
        render();
        focusInQuestion(question.id, "[data-report-form] input");
      },
    }, el("span", { "aria-hidden": "true" }, "⚑ "), t("Melden"),
    el("span", { class: "visually-hidden" }, t(": Frage der Moderation melden")));
  }
  const formId = `report-${question.id}`;
  const cancel = () => {
    reporting.delete(question.id);
    render();
    focusInQuestion(question.id, "[data-action=report]");
  };
  const form = el("form", {
    class: "report-form", "data-report-form": true, "aria-labelledby": `${formId}-title`,
    onkeydown: (event) => event.key === "Escape" && cancel(),
    onsubmit: (event) => {
      event.preventDefault();
      const chosen = form.querySelector("input:checked");
      report(question, chosen ? chosen.value : null);
    },
  },
  el("p", { class: "report-title", id: `${formId}-title` }, t("Diese Frage der Moderation melden?")),
  el("fieldset", {},
    el("legend", {}, t("Grund (freiwillig)")),
    Object.entries(REPORT_REASONS).map(([value, label]) => el("label", { class: "check" },
      el("input", { type: "radio", name: `${formId}-reason`, value }), el("span", {}, label)))),
  el("p", { class: "hint" }, t("Die Moderation prüft die Frage. Wer gemeldet hat, sieht niemand.")),
  el("div", { class: "actions" },
    el("button", { type: "submit", class: "button button-primary", "data-action": "report-send",
      disabled: reportBusy.has(question.id) }, t("Melden")),
    el("button", { type: "button", class: "button button-quiet", "data-action": "report-cancel", onclick: cancel },
      t("Abbrechen"))));
  return form;
}

async function report(question, reason) {
  if (reportBusy.has(question.id)) return;
  reportBusy.add(question.id);
  try {
    await api("POST", `/api/events/${encodeURIComponent(config.slug)}/questions/${question.id}/reports`,
      reason ? { reason } : {});
    reported.add(question.id);
    reporting.delete(question.id);
    announce(t("Danke. Die Moderation sieht Ihre Meldung."));
  } catch (error) {
    announce(error.code === "question_not_found" ? t("Diese Frage ist nicht mehr sichtbar.")
      : ERROR_TEXTS[error.code] || t("Die Meldung konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal."));
  } finally {
    reportBusy.delete(question.id);
    render();
  }
}

async function loadReported() {
  try {
    const mine = await api("GET", `/api/events/${encodeURIComponent(config.slug)}/reports/mine`);
    for (const id of mine.question_ids) reported.add(id);
    render();
  } catch {
    // Without the list the page still works; a second report of the same question is simply not counted.
  }
}

function renderPublic(li, question) {
  const voted = store.voted.has(question.id);
  const canVote = question.status === "approved";
  li.className = "question" + (question.id === store.onAirId ? " is-on-air" : "")
    + (question.status === "answered" ? " is-answered" : "");
  const count = question.votes === 1 ? t("1 Stimme") : t("{count} Stimmen", { count: question.votes });
  const label = voted ? t("Sie unterstützen diese Frage. {count}", { count })
    : t("Frage unterstützen. Bisher {count}", { count });
  li.append(
    el("div", { class: "question-body" },
      el("p", { class: "question-text" }, question.text),
      questionMeta(question),
      writtenAnswer(question),
      reportControl(question)),
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
      el("span", { class: "question-name" }, question.name || t("Anonym")),
      addressee(store.event, question) ? el("span", { class: "question-to" }, addressee(store.event, question)) : null),
    ...[writtenAnswer(question)].filter(Boolean), // DOM append() would write "null"
  );
}

const render = perFrame(() => {
  const onAirKey = (q) => JSON.stringify([q, store.onAirId === q.id, store.voted.has(q.id), reported.has(q.id),
    reporting.has(q.id), reportBusy.has(q.id)]);
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
    $("[data-on-air-name]").textContent = onAir.name ? t("Gefragt von {name}", { name: onAir.name }) : "";
  }
});

async function vote(questionId) {
  try {
    const result = await api("POST", `/api/events/${encodeURIComponent(config.slug)}/questions/${questionId}/votes`);
    store.voted.add(questionId);
    const question = store.questions.get(questionId);
    if (question) question.votes = Math.max(question.votes, result.votes);
    announce(t("Ihre Stimme wurde gezählt."));
    render();
  } catch (error) {
    announce(error.code === "rate_limited" ? t("Bitte warten Sie einen Moment, bevor Sie weiter abstimmen.")
      : ERROR_TEXTS[error.code] || t("Die Stimme konnte nicht gezählt werden."));
  }
}

function setUpAskForm() {
  const form = $("[data-ask-form]");
  if (!form) return; // the event takes no questions now
  const textarea = form.querySelector("textarea");
  const counter = $("[data-counter]");
  const feedback = $("[data-ask-feedback]");
  const submit = $("[data-ask-submit]");
  const updateCounter = () => {
    counter.textContent = t("{count} von {max} Zeichen", { count: textarea.value.length, max: MAX_TEXT });
  };
  textarea.addEventListener("input", updateCounter);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    feedback.className = "form-feedback";
    if (!text) {
      feedback.textContent = t("Bitte schreiben Sie zuerst Ihre Frage.");
      feedback.classList.add("is-error");
      textarea.focus();
      return;
    }
    submit.disabled = true;
    try {
      const name = form.elements.name ? form.elements.name.value.trim() : "";
      const to = form.elements.panelist_id ? form.elements.panelist_id.value : "";
      const question = await api("POST", `/api/events/${encodeURIComponent(config.slug)}/questions`,
        { text, name: name || null, panelist_id: to ? Number(to) : null });
      store.upsert(question, { mine: true });
      textarea.value = "";
      updateCounter();
      feedback.textContent = question.status === "approved"
        ? t("Danke! Ihre Frage ist angekommen und für alle sichtbar.")
        : t("Danke! Ihre Frage ist angekommen. Sie erscheint für alle, sobald die Moderation sie freigibt.");
      feedback.classList.add("is-ok");
      render();
    } catch (error) {
      feedback.textContent = ERROR_TEXTS[error.code]
        || (error.status === 422 ? t("Bitte prüfen Sie Ihre Eingabe: {problem}", { problem: error.message })
          : t("Die Frage konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal."));
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
  if (message.type === MessageType.REACTIONS) {
    reactionMeter.update(message);
    return;
  }
  onPollMessage(message);
  const before = store.questions.get(message.question?.id);
  if (!store.apply(message)) return;
  if (message.type === MessageType.QUESTION) {
    const question = message.question;
    if (question.status === "approved" && (!before || before.status === "pending")) {
      announce(before && before.mine ? t("Ihre Frage wurde freigegeben.") : t("Neue Frage: {text}", { text: question.text }));
    } else if (question.status === "rejected" && before && before.mine) {
      announce(t("Ihre Frage wurde nicht angenommen."));
    }
  } else if (message.type === MessageType.ON_AIR && message.question) {
    announce(t("Jetzt auf Sendung: {text}", { text: message.question.text }));
  }
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) drawAgenda();
  drawPhase();
  render();
}

function drawPhase() {
  const phase = eventPhase(store.event);
  for (const block of document.querySelectorAll("[data-phase]")) block.hidden = block.dataset.phase !== phase;
  const countdown = $("[data-countdown]");
  if (countdown) countdown.textContent = countdownText(store.event);
  const recording = store.event && store.event.recording_url;
  $("[data-recording-wrap]").hidden = !recording;
  if (recording) $("[data-recording]").href = recording;
  if (phase === "after") {
    const count = renderChapters($("[data-chapters]"), store.event, [...store.questions.values()]);
    $("[data-chapters-wrap]").hidden = count === 0;
  }
}

function drawAgenda() {
  const agenda = (store.event && store.event.agenda) || [];
  $("[data-agenda]").hidden = agenda.length === 0;
  renderAgendaList($("[data-agenda-list]"), agenda);
  markAgendaList($("[data-agenda-list]"), store.event);
  const summary = $("[data-agenda-now]");
  if (!summary) return;
  const current = currentAgendaItem(store.event);
  const text = current ? ` – jetzt: ${current.item.title}` : "";
  if (summary.textContent !== text) summary.textContent = text;
}

// ---------------------------------------------------------------- polls

const pollStore = new PollStore();
const pollList = $("[data-poll-list]");
const pollDrafts = new Map(); // poll id -> what was chosen or typed but not sent yet ({options, text})
const pollFeedback = new Map(); // poll id -> {text, kind}: the last answer's outcome
const pollBusy = new Set();
const pollPending = new Map(); // poll id -> the answer given while the previous one was still on its way
const banner = { pollId: null, observed: null, timer: null, observer: null };
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

const POLL_ERROR_TEXTS = {
  poll_not_open: t("Diese Umfrage ist bereits beendet."),
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
    if (poll.kind === "words") return t("Bitte geben Sie ein Wort mit höchstens {max} Zeichen ein.", { max: MAX_WORD });
    if (poll.kind === "multiple" && poll.max_choices) {
      return t("Bitte wählen Sie mindestens eine und höchstens {max} Antworten.", { max: poll.max_choices });
    }
    return t("Bitte prüfen Sie Ihre Antwort.");
  }
  return t("Ihre Antwort konnte nicht gezählt werden. Bitte versuchen Sie es noch einmal.");
}

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
    const result = await api("POST", `/api/events/${encodeURIComponent(config.slug)}/polls/${poll.id}/votes`, body);
    pollStore.setBallot(poll.id, result.ballot);
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
  li.append(el("div", { class: "poll-head" },
    el("h3", { class: "poll-title", id: pollTitleId(poll), tabindex: "-1" }, poll.title),
    el("span", { class: `badge badge-poll-${poll.state}` },
      open ? [el("span", { "aria-hidden": "true" }, "● "), t("Läuft")] : t("Umfrage beendet"))));
  if (open) {
    li.append(renderBallotForm(poll, {
      draft: draftFor(poll.id),
      onVote: (body) => votePoll(poll, body),
      onInvalid: (text) => showPollFeedback(poll.id, text, "error"),
    }));
  }
  if (mine) li.append(el("p", { class: "poll-mine" }, t("Ihre Antwort:"), " ", el("strong", {}, describeBallot(poll, mine))));
  const showFeedback = feedback && (open || feedback.kind === "error");
  li.append(el("p", { class: "poll-feedback" + (showFeedback ? ` is-${feedback.kind}` : mine && open ? " is-ok" : "") },
    showFeedback ? feedback.text : mine && open ? t("Ihre Antwort wurde gezählt.") : ""));
  if (open && mine && !(showFeedback && feedback.kind === "error")) {
    li.append(el("p", { class: "hint" }, t("Sie können Ihre Antwort ändern, solange die Umfrage läuft.")));
  }
  li.append(el("div", { class: "poll-results-slot", "data-results": true }));
}

function pollResultsView(poll) {
  const results = renderResults(poll, {
    mine: poll.my_ballot, heading: poll.state === "closed" ? "Endergebnis" : "Zwischenstand",
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

const renderPolls = perFrame(() => {
  const polls = visiblePolls();
  $("[data-polls-section]").hidden = polls.length === 0;
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
  updateBanner();
});

function onPollMessage(message) {
  const before = message.type === MessageType.POLL ? pollStore.get(message.poll.id) : null;
  if (!pollStore.apply(message)) return;
  if (message.type === MessageType.POLL) {
    const poll = message.poll;
    if (poll.state === "open" && (!before || before.state !== "open")) {
      pollFeedback.delete(poll.id);
      const label = before ? t("Umfrage wieder geöffnet:") : t("Neue Umfrage:");
      showBanner(poll, label);
      announce(`${label} ${poll.title}`);
    } else if (poll.state === "closed" && before && before.state === "open") {
      announce(t("Umfrage beendet: {title}", { title: poll.title }));
    }
  }
  renderPolls();
}

// A short, dismissable hint at the bottom of the screen; it leaves by itself once the poll has been in view.
function showBanner(poll, label) {
  banner.pollId = poll.id;
  $("[data-poll-banner] .poll-banner-label").textContent = label;
  $("[data-poll-banner-title]").textContent = poll.title;
  $("[data-poll-banner-go]").href = `#poll-${poll.id}`;
  $("[data-poll-banner]").hidden = false;
  document.body.classList.add("has-poll-banner");
}

function hideBanner() {
  banner.pollId = null;
  clearTimeout(banner.timer);
  if (banner.observed) banner.observer.unobserve(banner.observed);
  banner.observed = null;
  $("[data-poll-banner]").hidden = true;
  document.body.classList.remove("has-poll-banner");
}

function updateBanner() {
  if (banner.pollId === null) return;
  const poll = pollStore.get(banner.pollId);
  if (!poll || poll.state !== "open") {
    hideBanner();
    return;
  }
  const li = pollList.querySelector(`li[data-id="${banner.pollId}"]`);
  if (li && li !== banner.observed) {
    if (banner.observed) banner.observer.unobserve(banner.observed);
    banner.observed = li;
    banner.observer.observe(li);
  }
}

function goToPoll(pollId) {
  const target = document.getElementById(`poll-${pollId}-title`) || $("#polls-heading");
  target.scrollIntoView({ block: "start", behavior: reducedMotion.matches ? "auto" : "smooth" });
  target.focus({ preventScroll: true });
}

function setUpPollBanner() {
  banner.observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      clearTimeout(banner.timer);
      if (entry.isIntersecting) banner.timer = setTimeout(hideBanner, 4000);
    }
  }, { threshold: 0.4 });
  $("[data-poll-banner-close]").addEventListener("click", hideBanner);
  $("[data-poll-banner-go]").addEventListener("click", (event) => {
    event.preventDefault();
    const pollId = banner.pollId;
    hideBanner();
    goToPoll(pollId);
  });
}

localiseTimes();
setUpStream();
setUpAskForm();
setUpSort();
setUpPollBanner();
const reactionMeter = new ReactionMeter($("[data-reaction-meter]"));
const connection = $("[data-connection]");
loadReported();
const live = connectLive({ slug: config.slug, onMessage, onStatus: (status) => showConnection(connection, status) });
setUpReactionButtons($("[data-reaction-buttons]"), { slug: config.slug, live });
// Without a mark from the moderator the current item follows the planned times, which move on by themselves.
setInterval(() => {
  drawAgenda();
  drawPhase(); // the start and the end come by themselves
}, 30000);
