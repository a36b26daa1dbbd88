// The viewer page: stream consent, asking, upvoting, the live question list, polls and reactions.
import { showAgenda } from "../features/agenda.js";
import { setUpAskForm } from "../features/ask-form.js";
import { setUpStream } from "../features/consent.js";
import { showPhase } from "../features/phase.js";
import { QuestionStore } from "../features/questions.js";
import { ReactionMeter, setUpReactionButtons } from "../features/reactions.js";
import { waitForTheVideo } from "../features/stream-delay.js";
import { studioNow } from "../features/studio-now.js";
import { viewerPolls } from "../features/viewer-polls.js";
import { viewerQuestions } from "../features/viewer-questions.js";
import { eventEndpoints } from "../lib/api.js";
import { pageConfig } from "../lib/config.js";
import { $ } from "../lib/dom.js";
import { connectLive, showConnection } from "../lib/live.js";
import { MessageType } from "../lib/protocol.js";
import { localiseTimes } from "../lib/time.js";

const config = pageConfig();
const urls = eventEndpoints(config.slug);
const store = new QuestionStore();
const questions = viewerQuestions({ store, urls });
const polls = viewerPolls({ urls });
const studio = studioNow();

function drawAgenda() {
  showAgenda(store.event);
}

function drawPhase() {
  showPhase(store.event, [...store.questions.values()]);
}

function onMessage(message) {
  if (message.type === MessageType.REACTIONS) {
    reactionMeter.update(message);
    return;
  }
  polls.onMessage(message);
  studio.onMessage(message);
  const before = store.questions.get(message.question?.id);
  if (!store.apply(message)) return;
  questions.announceChange(message, before);
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) drawAgenda();
  drawPhase();
  questions.render();
}

localiseTimes();
setUpStream();
setUpAskForm({ store, urls, onAsked: questions.render });
questions.setUpSort();
polls.setUpBanner();
const reactionMeter = new ReactionMeter($("[data-reaction-meter]"));
const connection = $("[data-connection]");
questions.loadReported();
// What the video shows waits until this viewer's video shows it (stream-delay.js); the rest comes at once.
const video = waitForTheVideo({ apply: onMessage, event: () => store.event, phoneOnly: config.phone_only });
const live = connectLive({
  slug: config.slug, onMessage: video.receive, onPong: video.onPong, onStatus: (status) => showConnection(connection, status),
});
setUpReactionButtons($("[data-reaction-buttons]"), { slug: config.slug, live });
// Without a mark from the moderator the current item follows the planned times, which move on by themselves.
setInterval(() => {
  drawAgenda();
  drawPhase(); // the start and the end come by themselves
}, 30000);
