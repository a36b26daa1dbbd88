// The viewer page: stream consent, asking, upvoting, the live question list, polls and reactions.
import { showAgenda } from "../features/agenda.js";
import { setUpAskForm } from "../features/ask-form.js";
import { setUpStream } from "../features/consent.js";
import { connectionStatusFor, nextBoundary, showEndedConnection, showEventLife } from "../features/event-life.js";
import { showPhase } from "../features/phase.js";
import { QuestionStore } from "../features/questions.js";
import { ReactionMeter, setUpReactionButtons } from "../features/reactions.js";
import { waitForTheVideo } from "../features/stream-delay.js";
import { studioNow } from "../features/studio-now.js";
import { viewerPolls } from "../features/viewer-polls.js";
import { viewerQuestions } from "../features/viewer-questions.js";
import { viewerActions } from "../lib/actions.js";
import { eventEndpoints } from "../lib/api.js";
import { pageConfig } from "../lib/config.js";
import { $ } from "../lib/dom.js";
import { connectLive, showConnection } from "../lib/live.js";
import { MessageType } from "../lib/protocol.js";
import { localiseTimes } from "../lib/time.js";

const config = pageConfig();
const urls = eventEndpoints(config.slug);
// Asking, voting, answering polls and reporting go over the live websocket while it is open, else over HTTP.
const actions = viewerActions(urls);
const store = new QuestionStore();
const questions = viewerQuestions({ store, urls, actions });
const polls = viewerPolls({ urls, actions, currentEvent: () => store.event });
const studio = studioNow();

function drawAgenda() {
  showAgenda(store.event);
}

let boundaryTimer = null;
function drawPhase() {
  showPhase(store.event, [...store.questions.values()]);
  showEventLife(store.event);
  showStatus();
  // The start, the end and the end of reopened questions change the page at that very moment.
  clearTimeout(boundaryTimer);
  const wait = nextBoundary(store.event) - Date.now();
  if (wait > 0 && wait < 86400000) {
    boundaryTimer = setTimeout(() => {
      drawPhase();
      polls.render();
    }, wait + 50);
  }
}

// The connection's last state, shown as "ended" once the event is over.
let lastStatus = { state: "connecting" };
function showStatus(status = lastStatus) {
  lastStatus = status;
  const shown = connectionStatusFor(status, store.event);
  if (!showEndedConnection(connection, shown)) showConnection(connection, shown);
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
  if (message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT) {
    drawAgenda();
    polls.render();
  }
  drawPhase();
  questions.render();
}

localiseTimes();
setUpStream();
setUpAskForm({ store, actions, onAsked: questions.render });
questions.setUpSort();
polls.setUpBanner();
const reactionMeter = new ReactionMeter($("[data-reaction-meter]"));
const connection = $("[data-connection]");
questions.loadReported();
// What the video shows waits until this viewer's video shows it (stream-delay.js); the rest comes at once.
const video = waitForTheVideo({ apply: onMessage, event: () => store.event, phoneOnly: config.phone_only });
const live = connectLive({
  slug: config.slug, onMessage: video.receive, onPong: video.onPong, onStatus: showStatus,
});
actions.useSocket(live);
setUpReactionButtons($("[data-reaction-buttons]"), { slug: config.slug, live });
// Without a mark from the moderator the current item follows the planned times, which move on by themselves.
setInterval(() => {
  drawAgenda();
  drawPhase(); // the start and the end come by themselves
  polls.render();
}, 15000);
