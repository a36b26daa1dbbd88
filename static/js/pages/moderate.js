// The moderator page: the live queue beside the question on air and the studio control, one-click and keyboard
// actions, inline editing that live updates never reset, undo and the activity list, the tools against abuse,
// polls, the agenda and the reactions.
import { AgendaControl } from "../features/agenda-control.js";
import { liveStatus } from "../features/live-status.js";
import { moderationNotes } from "../features/moderation/abuse.js";
import { consoleKeys } from "../features/moderation/console-keys.js";
import { consoleView } from "../features/moderation/console-view.js";
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
import { connectLive, showConnection } from "../lib/live.js";
import { MessageType } from "../lib/protocol.js";

const config = pageConfig();
const urls = eventEndpoints(config.slug);
const store = new QuestionStore({ staff: true });
const filter = wordFilter({ urls, unblock: (block) => abuse.unblock(block) });
const abuse = moderationNotes({ urls, filter, render: () => queue.render() });
const view = consoleView({ slug: config.slug, render: () => queue.render() });
const queue = moderationQueue({ store, urls, abuse, view, myId: config.moderator_id });
const polls = pollsAdmin({ urls, onList: (list) => studio.setPolls(list) });

function onMessage(message) {
  if (message.type === MessageType.REACTIONS) {
    reactionMeter.update(message);
    return;
  }
  if (message.type === MessageType.MODERATION_ACTION) {
    queue.onActivity(message.action);
    queue.render();
    return;
  }
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.SYNCED) {
    // After a reconnect the activity list is fetched again: its messages are not replayed.
    queue.loadActivity();
  }
  if (message.type === MessageType.SNAPSHOT) abuse.loadNotes();
  if (message.type === MessageType.MODERATION_NOTES) {
    abuse.applyNotes(message, message.seq);
    return;
  }
  studio.apply(message, store);
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) {
    agenda.update(message.event);
    afterTheEnd.update(message.event);
  }
  polls.onMessage(message);
  const before = message.question ? store.questions.get(message.question.id) : null;
  if (!store.apply(message)) return;
  if (message.type === MessageType.QUESTION && !before && message.question.status === "pending") {
    queue.arrived(message.question);
    view.newQuestion();
  }
  studio.drawNote(store);
  queue.render();
}

document.querySelector("[data-undo]").addEventListener("click", queue.undo);
document.querySelector("[data-bulk-approve]").addEventListener("click", () => queue.bulk("approved"));
document.querySelector("[data-bulk-reject]").addEventListener("click", () => queue.bulk("rejected"));
consoleKeys({ queue, view, store });
setUpPollForm({ urls, onCreated: polls.added });
filter.setUpForm();
liveStatus(urls.status());
const agenda = new AgendaControl(document.querySelector("[data-mod-agenda]"), { urls, explain });
const afterTheEnd = questionsWindow(document.querySelector("[data-questions-window]"), { urls, explain });
setInterval(() => {
  agenda.update(agenda.event); // the time left moves on by itself
  afterTheEnd.update(); // and the end comes by itself
  queue.render(); // and so do the questions' ages
}, 15000);
const studio = new StudioControl(document.querySelector("[data-studio-control]"), { urls, explain });
const reactionMeter = new ReactionMeter(document.querySelector("[data-reaction-meter]"));
const connection = document.querySelector("[data-connection]");
connectLive({ slug: config.slug, onMessage, onStatus: (status) => showConnection(connection, status) });
