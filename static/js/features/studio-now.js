// The viewer page's line "Im Studio zu sehen: …": what the studio screen shows when it is not the question on air
// (which has its own box), so a viewer can find the poll the host talks about. It follows the delayed messages
// (stream-delay.js), so it changes when the viewer's video does.
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { MessageType } from "../lib/protocol.js";
import { screenOf } from "./studio-screen.js";

export function studioNow(element = $("[data-studio-now]")) {
  const titles = new Map(); // poll id -> title, from the polls the viewer may see
  let screen = null;

  function draw() {
    if (!element) return;
    const title = screen && screen.mode === "poll" ? titles.get(screen.poll_id) : null;
    element.hidden = !title;
    element.textContent = title ? t("Im Studio zu sehen: Ergebnis der Umfrage „{title}“", { title }) : "";
  }

  return {
    onMessage(message) {
      if (message.type === MessageType.SNAPSHOT) {
        titles.clear();
        for (const poll of message.polls || []) titles.set(poll.id, poll.title);
      } else if (message.type === MessageType.POLL) {
        titles.set(message.poll.id, message.poll.title);
      } else if (message.type === MessageType.POLL_DELETED) {
        titles.delete(message.poll_id);
      }
      screen = screenOf(message) || screen;
      draw();
    },
  };
}
