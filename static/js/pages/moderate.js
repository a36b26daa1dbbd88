// The moderator page: the live queue, one-click actions, inline editing and undo, the tools against abuse, polls,
// the agenda, the studio views and the reactions.
import { AgendaControl } from "../features/agenda-control.js";
import { liveStatus } from "../features/live-status.js";
import { moderationNotes } from "../features/moderation/abuse.js";
import { explain } from "../features/moderation/feedback.js";
import { setUpPollForm } from "../features/moderation/poll-form.js";
import { pollsAdmin } from "../features/moderation/polls-admin.js";
import { questionsWindow } from "../features/moderation/questions-window.js";
import { moderationQueue } from "../features/moderation/queue.js";
import { wordFilter } from "../features/moderation/word-filter.js";
import { QuestionStore } from "../features/questions.js";
import { ReactionMeter } from "../features/reactions.js";
import { StudioControl } from "../features/studio-control.js";
import { eventEndpoints } from "../lib/api.js";
import { pageConfig } from "../lib/config.js";
import { announce } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { connectLive, showConnection } from "../lib/live.js";
import { MessageType } from "../lib/protocol.js";

const config = pageConfig();
const urls = eventEndpoints(config.slug);
const store = new QuestionStore({ staff: true });
const filter = wordFilter({ urls, unblock: (block) => abuse.unblock(block) });
const abuse = moderationNotes({ urls, filter, render: () => queue.render() });
const queue = moderationQueue({ store, urls, abuse });
const polls = pollsAdmin({ urls, onList: (list) => studio.setPolls(list) });

function onMessage(message) {
  if (message.type === MessageType.REACTIONS) {
    reactionMeter.update(message);
    return;
  }
  if (message.type === MessageType.SNAPSHOT) abuse.loadNotes();
  if (message.type === MessageType.MODERATION_NOTES) {
    abuse.applyNotes(message, message.seq);
    return;
  }
  studio.apply(message);
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) {
    agenda.update(message.event);
    afterTheEnd.update(message.event);
  }
  polls.onMessage(message);
  const before = message.question ? store.questions.get(message.question.id) : null;
  if (!store.apply(message)) return;
  if (message.type === MessageType.QUESTION && !before && message.question.status === "pending") {
    announce(t("Neue Frage im Eingang."));
  }
  queue.render();
}

document.querySelector("[data-undo]").addEventListener("click", queue.undo);
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea");
  if (!typing && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    queue.undo();
  }
});
setUpPollForm({ urls, onCreated: polls.added });
filter.setUpForm();
liveStatus(urls.status());
const agenda = new AgendaControl(document.querySelector("[data-mod-agenda]"), { urls, explain });
const afterTheEnd = questionsWindow(document.querySelector("[data-questions-window]"), { urls, explain });
setInterval(() => {
  agenda.update(agenda.event); // the time left moves on by itself
  afterTheEnd.update(); // and the end comes by itself
}, 15000);
const studio = new StudioControl(document.querySelector("[data-studio-control]"), { urls, explain });
const reactionMeter = new ReactionMeter(document.querySelector("[data-reaction-meter]"));
const connection = document.querySelector("[data-connection]");
connectLive({ slug: config.slug, onMessage, onStatus: (status) => showConnection(connection, status) });
