// The moderator's tools card against abuse: the event's own filter words and the blocked devices.
import { api } from "../../lib/api.js";
import { el } from "../../lib/dom.js";
import { t, tn } from "../../lib/i18n.js";
import { LIMITS } from "../../lib/limits.js";
import { formatTime } from "../../lib/time.js";
import { explain, say } from "./feedback.js";

/** `unblock(block)` lifts a device's block from its entry in the list (the notes' action, so the cards follow). */
export function wordFilter({ urls, unblock }) {
  let lists = { seq: -1, words: [], blocks: [] };

  // A list carries the sequence number it was true at; an older one never replaces a newer one, so the fetched
  // state and the live messages can arrive in any order.
  function applyLists(data, seq) {
    if (data.words && seq >= lists.seq) lists = { ...lists, words: data.words };
    if (data.blocks && seq >= lists.seq) lists = { ...lists, blocks: data.blocks };
    if ((data.words || data.blocks) && seq >= lists.seq) lists.seq = seq;
  }

  function setBlocks(blocks) {
    lists = { ...lists, blocks };
    render();
  }

  function render() {
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
        el("span", {}, tn(block.questions, t("1 Frage"), t("{count} Fragen"))),
        el("span", {}, t("gesperrt {time} Uhr", { time: formatTime(block.blocked_at) }))),
      el("button", { type: "button", class: "button button-quiet button-small", "data-block": String(block.question_id),
        onclick: () => unblock(block) }, t("Sperre aufheben")))));
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
      const result = await api("DELETE", urls.word(word));
      lists = { ...lists, words: result.words };
      say(t("Aus dem Wortfilter entfernt: „{word}“", { word }));
    } catch (error) {
      explain(error);
    }
    render();
  }

  function setUpForm() {
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
        const result = await api("POST", urls.words(), { word });
        lists = { ...lists, words: result.words };
        input.value = "";
        input.removeAttribute("aria-invalid");
        feedback.textContent = t("Im Wortfilter: „{word}“. Neue Fragen damit warten im Eingang.", { word: result.word });
        feedback.classList.add("is-ok");
        render();
      } catch (error) {
        if (error.status === 401) explain(error);
        feedback.textContent = error.status === 422
          ? t("Bitte geben Sie ein Wort aus Buchstaben ein (höchstens {max} Zeichen).", { max: LIMITS.filter_word })
          : error.code === "too_many_words" ? t("Diese Veranstaltung hat schon die höchste Zahl eigener Wörter.")
            : t("Das Wort konnte nicht gespeichert werden: {reason}", { reason: error.message || error.code });
        feedback.classList.add("is-error");
        input.setAttribute("aria-invalid", "true");
      }
    });
  }

  return { applyLists, setBlocks, render, setUpForm };
}
