// The viewer page's questions: the public list (sorted, with upvotes and reports), "Meine Fragen", the question on
// air, and what is said aloud when one of them changes.
import { $, announce, el, perFrame, renderKeyed } from "../lib/dom.js";
import { votesText } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { MessageType } from "../lib/protocol.js";
import { questionReports } from "./question-reports.js";
import { addressee, STATUS_LABELS } from "./questions.js";
import { ERROR_TEXTS } from "./viewer-errors.js";

export function viewerQuestions({ store, urls, actions }) {
  let sort = "popular";
  const publicList = $("[data-public-list]");
  const mineList = $("[data-mine-list]");
  const reports = questionReports({ urls, actions, list: publicList, render: () => render() });

  function questionMeta(question) {
    const to = addressee(store.event, question);
    return el("p", { class: "question-meta" },
      el("span", { class: "question-name", dir: "auto" }, question.name || t("Anonym")),
      to ? el("span", { class: "question-to" }, to) : null,
      question.status === "answered" ? el("span", { class: "badge badge-answered" }, t("Beantwortet")) : null,
      question.id === store.onAirId ? el("span", { class: "badge badge-on-air" }, t("Auf Sendung")) : null,
    );
  }

  function writtenAnswer(question) {
    if (!question.answer) return null;
    return el("div", { class: "written-answer" },
      el("p", { class: "written-answer-label" }, t("Schriftliche Antwort")),
      el("p", { dir: "auto" }, question.answer));
  }

  function renderPublic(li, question) {
    const voted = store.voted.has(question.id);
    const canVote = question.status === "approved";
    li.className = "question" + (question.id === store.onAirId ? " is-on-air" : "")
      + (question.status === "answered" ? " is-answered" : "");
    const count = votesText(question.votes);
    // Pressed: the viewer supports the question; pressing again takes the vote back.
    const label = voted ? t("Sie unterstützen diese Frage. {count}. Erneut drücken nimmt Ihre Stimme zurück.", { count })
      : t("Frage unterstützen. Bisher {count}", { count });
    li.append(
      el("div", { class: "question-body" },
        el("p", { class: "question-text", dir: "auto" }, question.text),
        questionMeta(question),
        writtenAnswer(question),
        reports.control(question)),
      el("button", {
        type: "button", class: "vote" + (voted ? " is-voted" : ""), "data-action": "vote",
        "aria-label": label, "aria-pressed": String(voted), disabled: !canVote,
        onclick: () => (store.voted.has(question.id) ? unvote(question.id) : vote(question.id)),
      }, el("span", { "aria-hidden": "true" }, "▲"), el("span", { class: "vote-count" }, String(question.votes))),
    );
  }

  function renderMine(li, question) {
    li.className = `question mine-item status-${question.status}`;
    li.append(
      el("p", { class: "question-text", dir: "auto" }, question.text),
      el("p", { class: "question-meta" },
        el("span", { class: `badge badge-${question.status}` }, STATUS_LABELS[question.status]),
        el("span", { class: "question-name", dir: "auto" }, question.name || t("Anonym")),
        addressee(store.event, question) ? el("span", { class: "question-to" }, addressee(store.event, question)) : null),
      ...[writtenAnswer(question)].filter(Boolean), // DOM append() would write "null"
    );
  }

  const render = perFrame(() => {
    const onAirKey = (q) => JSON.stringify([q, store.onAirId === q.id, store.voted.has(q.id), ...reports.state(q.id)]);
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
      const result = await actions.act("upvote", { question_id: questionId });
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

  async function unvote(questionId) {
    try {
      const result = await actions.act("unvote", { question_id: questionId });
      store.voted.delete(questionId);
      const question = store.questions.get(questionId);
      if (question) question.votes = result.votes;
      announce(t("Ihre Stimme wurde zurückgenommen."));
      render();
    } catch (error) {
      announce(ERROR_TEXTS[error.code] || t("Die Stimme konnte nicht zurückgenommen werden."));
    }
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

  /** Says aloud what a live message changed; `before` is the question as it was before the store applied it. */
  function announceChange(message, before) {
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
  }

  return { render, setUpSort, announceChange, loadReported: reports.load };
}
