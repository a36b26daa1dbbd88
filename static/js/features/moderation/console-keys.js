// The console's keyboard: move through the lists, act on the chosen card, undo, search and the help on "?".
// Keys work while nobody is typing in a field; every one is listed in the help dialog and in docs/moderation.
import { STATUSES } from "./queue.js";

export function consoleKeys({ queue, view, store }) {
  const help = document.querySelector("[data-help]");
  document.querySelector("[data-help-open]").addEventListener("click", () => help.showModal());

  function currentCard() {
    const li = document.activeElement?.closest?.("li.mod-card[data-id]");
    return li && li.closest("[data-column]") ? li : null;
  }

  function listOf(status) {
    return document.querySelector(`[data-column="${status}"]`);
  }

  function focusFirst(status) {
    if (status !== "pending") view.showTab(status);
    const first = listOf(status).querySelector("li[data-id]");
    if (first) first.focus();
    else listOf(status).closest("section").querySelector("h2, [role=tab][aria-selected=true]")?.focus();
  }

  function move(step) {
    const li = currentCard();
    if (!li) {
      focusFirst("pending");
      return;
    }
    const next = step > 0 ? li.nextElementSibling : li.previousElementSibling;
    if (next) {
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }
  }

  function act(key, question) {
    switch (key) {
      case "a":
        if (question.status !== "approved") queue.setStatus(question, "approved");
        return true;
      case "r":
        if (question.status !== "rejected") queue.setStatus(question, "rejected");
        return true;
      case "d":
        if (question.status === "approved") queue.setStatus(question, "answered");
        return true;
      case "o":
        queue.toggleAir(question);
        return true;
      case "e":
        queue.openEditor(question, "text");
        return true;
      case "s":
        view.toggleStar(question.id);
        return true;
      case "x":
        if (question.status === "pending") view.setSelected(question.id, !view.isSelected(question.id));
        return true;
      default:
        return false;
    }
  }

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest?.("input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]");
    if (typing || help.open) return;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      queue.undo();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "?") {
      event.preventDefault();
      help.showModal();
      return;
    }
    if (key === "/") {
      event.preventDefault();
      view.focusSearch();
      return;
    }
    if (key === "u") {
      event.preventDefault();
      queue.undo();
      return;
    }
    if (key === "j" || key === "ArrowDown" || key === "k" || key === "ArrowUp") {
      // The arrows move between cards only when a card (not a button inside it) has the focus.
      if (key.startsWith("Arrow") && document.activeElement !== currentCard() && currentCard()) return;
      event.preventDefault();
      move(key === "j" || key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (["1", "2", "3", "4"].includes(key)) {
      event.preventDefault();
      focusFirst(STATUSES[Number(key) - 1]);
      return;
    }
    const li = currentCard();
    const question = li && store.questions.get(Number(li.dataset.id));
    if (question && act(key, question)) event.preventDefault();
  });
}
