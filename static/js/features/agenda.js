// Which agenda item is on now: the one the moderator marked (timed from when it was marked, since a live
// programme drifts from its plan), else the one whose planned time covers now.
import { $, el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { formatTime } from "../lib/time.js";

const MINUTE = 60000;

/** {item, endsAt (ms or null)} for the item on now, or null. */
export function currentAgendaItem(event, now = Date.now()) {
  const agenda = (event && event.agenda) || [];
  const mark = event && event.current_agenda;
  if (mark) {
    const item = agenda.find((candidate) => candidate.id === mark.item_id);
    if (item) {
      const started = Date.parse(mark.started_at);
      return { item, endsAt: item.duration_minutes ? started + item.duration_minutes * MINUTE : null };
    }
  }
  for (const item of agenda) {
    if (!item.starts_at || !item.duration_minutes) continue;
    const start = Date.parse(item.starts_at);
    const end = start + item.duration_minutes * MINUTE;
    if (start <= now && now < end) return { item, endsAt: end };
  }
  return null;
}

/** "Noch 12 Min: Titel", or "3 Min überzogen: Titel" once the planned duration is over. */
export function timeLeftText(current, now = Date.now()) {
  if (!current) return "";
  if (current.endsAt === null) return t("Jetzt: {title}", { title: current.item.title });
  const left = current.endsAt - now;
  if (left >= 0) {
    return t("Noch {minutes} Min: {title}", { minutes: Math.max(1, Math.ceil(left / MINUTE)), title: current.item.title });
  }
  return t("{minutes} Min überzogen: {title}", { minutes: Math.ceil(-left / MINUTE), title: current.item.title });
}

/** Marks the current item in a server-rendered agenda list (`li[data-agenda-item]`). */
export function markAgendaList(list, event) {
  if (!list) return;
  const current = currentAgendaItem(event);
  const currentId = current ? String(current.item.id) : null;
  for (const li of list.querySelectorAll("li[data-agenda-item]")) {
    const isCurrent = li.dataset.agendaItem === currentId;
    li.classList.toggle("is-current", isCurrent);
    if (isCurrent) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
    const badge = li.querySelector(".agenda-now");
    if (isCurrent && !badge) li.append(el("span", { class: "badge agenda-now" }, t("Jetzt")));
    if (!isCurrent && badge) badge.remove();
  }
}

/** Redraws the agenda list when the organisers changed the agenda during the event. */
export function renderAgendaList(list, agenda) {
  const signature = JSON.stringify(agenda);
  if (!list || list.dataset.signature === signature) return;
  const first = list.dataset.signature === undefined;
  list.dataset.signature = signature;
  if (first) return; // the server rendered this very agenda
  list.replaceChildren(...agenda.map((item) => el("li", { dataset: { agendaItem: String(item.id) } },
    item.starts_at ? el("time", { datetime: item.starts_at }, formatTime(item.starts_at)) : null,
    el("span", { class: "agenda-title" }, item.title),
    item.speakers ? el("span", { class: "agenda-speakers" }, item.speakers) : null)));
}

/** The viewer page's agenda card: the list (as the organisers last changed it), the current item marked. */
export function showAgenda(event) {
  const agenda = (event && event.agenda) || [];
  $("[data-agenda]").hidden = agenda.length === 0;
  renderAgendaList($("[data-agenda-list]"), agenda);
  markAgendaList($("[data-agenda-list]"), event);
  const summary = $("[data-agenda-now]");
  if (!summary) return;
  const current = currentAgendaItem(event);
  const text = current ? " – " + t("jetzt: {title}", { title: current.item.title }) : "";
  if (summary.textContent !== text) summary.textContent = text;
}
