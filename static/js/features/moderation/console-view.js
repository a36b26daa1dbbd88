// What the console shows of the queue: the search box (text and name), the filters (reported, held by the filter,
// starred, addressed to a panelist), the tabs beside the incoming column, the selection for bulk actions, the stars
// (kept in this browser) and the badge and tab title for new questions while the queue is out of sight.
import { el } from "../../lib/dom.js";
import { t, tn } from "../../lib/i18n.js";

const fold = (text) => (text || "").toLocaleLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");

export function consoleView({ slug, render }) {
  const search = document.querySelector("[data-search]");
  const filterBoxes = [...document.querySelectorAll("[data-filter]")];
  const panelistFilter = document.querySelector("[data-panelist-filter]");
  const tabs = [...document.querySelectorAll("[data-tab]")];
  const bulkBar = document.querySelector("[data-bulk]");
  const selectAll = document.querySelector("[data-select-all]");
  const badge = document.querySelector("[data-new-badge]");
  const queueHead = document.querySelector("[data-queue]");
  const selected = new Set();
  const starKey = `srl-stars-${slug}`;
  const starred = new Set(JSON.parse(localStorage.getItem(starKey) || "[]"));
  const baseTitle = document.title;
  let unseen = 0;
  let queueInView = true;
  let activeTab = "approved";
  let visiblePending = [];

  search.addEventListener("input", () => render());
  search.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      search.value = "";
      render();
      search.blur();
    }
  });
  for (const box of filterBoxes) box.addEventListener("change", () => render());
  panelistFilter.addEventListener("change", () => render());

  function showTab(status) {
    activeTab = status;
    for (const tab of tabs) {
      const on = tab.dataset.tab === status;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.querySelector(`[data-panel="${tab.dataset.tab}"]`).hidden = !on;
    }
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
    tab.addEventListener("keydown", (event) => {
      const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      event.preventDefault();
      const next = tabs[(index + step + tabs.length) % tabs.length];
      showTab(next.dataset.tab);
      next.focus();
    });
  });

  function filters() {
    return Object.fromEntries(filterBoxes.map((box) => [box.dataset.filter, box.checked]));
  }

  /** Whether the question passes the search and the filters. `note` is its abuse note (or null). */
  function shows(question, note) {
    const wanted = filters();
    if (wanted.reported && !(note && note.reports)) return false;
    if (wanted.held && !(note && (note.held_words.length || note.held_device))) return false;
    if (wanted.starred && !starred.has(question.id)) return false;
    if (panelistFilter.value && String(question.panelist_id) !== panelistFilter.value) return false;
    const words = fold(search.value).split(/\s+/).filter(Boolean);
    if (!words.length) return true;
    const haystack = fold(`${question.text} ${question.name || ""} ${question.answer || ""}`);
    return words.every((word) => haystack.includes(word));
  }

  function drawCounts(store, abuse) {
    const all = [...store.questions.values()];
    const counts = {
      reported: all.filter((q) => abuse.noteOf(q)?.reports).length,
      held: all.filter((q) => q.status === "pending" && abuse.isHeld(q)).length,
      starred: all.filter((q) => starred.has(q.id)).length,
    };
    for (const [name, count] of Object.entries(counts)) {
      document.querySelector(`[data-filter-count="${name}"]`).textContent = String(count);
    }
    // The selection holds only questions still waiting (a colleague may have approved one meanwhile).
    for (const id of [...selected]) if (store.questions.get(id)?.status !== "pending") selected.delete(id);
    visiblePending = [...document.querySelectorAll('[data-column="pending"] li[data-id]')].map((li) => Number(li.dataset.id));
    bulkBar.hidden = selected.size === 0;
    bulkBar.querySelector("[data-bulk-count]").textContent = tn(selected.size, t("1 Frage ausgewählt"), t("{count} Fragen ausgewählt"));
    selectAll.checked = visiblePending.length > 0 && visiblePending.every((id) => selected.has(id));
    selectAll.indeterminate = !selectAll.checked && visiblePending.some((id) => selected.has(id));
  }

  selectAll.addEventListener("change", () => {
    for (const id of visiblePending) {
      if (selectAll.checked) selected.add(id);
      else selected.delete(id);
    }
    render();
  });
  document.querySelector("[data-bulk-clear]").addEventListener("click", () => clearSelection());

  function setSelected(id, on) {
    if (on) selected.add(id);
    else selected.delete(id);
    render();
  }

  function clearSelection() {
    selected.clear();
    render();
  }

  function toggleStar(id) {
    if (starred.has(id)) starred.delete(id);
    else starred.add(id);
    localStorage.setItem(starKey, JSON.stringify([...starred]));
    render();
  }

  function drawPanelistFilter(event) {
    const panelists = (event && event.panelists) || [];
    document.querySelector("[data-panelist-filter-wrap]").hidden = panelists.length === 0;
    const signature = JSON.stringify(panelists);
    if (panelistFilter.dataset.signature === signature) return;
    panelistFilter.dataset.signature = signature;
    const chosen = panelistFilter.value;
    panelistFilter.replaceChildren(el("option", { value: "" }, t("alle (auch das ganze Podium)")),
      ...panelists.map((p) => el("option", { value: String(p.id) }, p.role ? `${p.name} (${p.role})` : p.name)));
    panelistFilter.value = panelists.some((p) => String(p.id) === chosen) ? chosen : "";
  }

  // New questions while the queue is out of sight (scrolled away, another tab): a badge and the tab's title.
  function drawUnseen() {
    badge.hidden = unseen === 0;
    badge.textContent = tn(unseen, t("1 neue Frage im Eingang ↑"), t("{count} neue Fragen im Eingang ↑"));
    document.title = unseen ? `(${unseen}) ${baseTitle}` : baseTitle;
  }

  function seen() {
    if (!unseen) return;
    unseen = 0;
    drawUnseen();
  }

  new IntersectionObserver((entries) => {
    queueInView = entries.some((entry) => entry.isIntersecting);
    if (queueInView && !document.hidden) seen();
  }).observe(queueHead.querySelector(".column-head"));
  document.addEventListener("visibilitychange", () => !document.hidden && queueInView && seen());
  badge.addEventListener("click", () => {
    queueHead.scrollIntoView({ block: "start" });
    queueHead.querySelector("li[data-id]")?.focus();
    seen();
  });

  const sound = document.querySelector("[data-sound]");
  sound.checked = localStorage.getItem("srl-console-sound") === "on";
  sound.addEventListener("change", () => localStorage.setItem("srl-console-sound", sound.checked ? "on" : "off"));

  function beep() {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    } catch {
      // No sound where the browser allows none; the badge says it anyway.
    }
  }

  /** A new question is waiting. */
  function newQuestion() {
    if (sound.checked) beep();
    if (queueInView && !document.hidden) return;
    unseen += 1;
    drawUnseen();
  }

  return {
    shows, drawCounts, drawPanelistFilter, showTab, newQuestion,
    activeTab: () => activeTab,
    isSelected: (id) => selected.has(id),
    isStarred: (id) => starred.has(id),
    cardState: (id) => [selected.has(id), starred.has(id)],
    selectedIds: () => [...selected],
    setSelected, clearSelection, toggleStar,
    focusSearch: () => search.focus(),
  };
}
