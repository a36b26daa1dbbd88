// The presenter screen: what the moderator puts on screen (question, poll, join slide or idle), the next
// questions, a clock and the time left in the agenda item. Host shortcuts only with a moderator login.
import { setUpHostShortcuts } from "../features/host-shortcuts.js";
import { PollStore } from "../features/polls.js";
import { presenterScreen } from "../features/presenter-screen.js";
import { QuestionStore } from "../features/questions.js";
import { screenOf } from "../features/studio-screen.js";
import { eventEndpoints } from "../lib/api.js";
import { pageConfig } from "../lib/config.js";
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { connectLive, showConnection } from "../lib/live.js";
import { MessageType } from "../lib/protocol.js";

const config = pageConfig();
const questions = new QuestionStore({ staff: true });
const polls = new PollStore({ staff: true });
const state = { screen: { mode: "none", poll_id: null } };
const screen = presenterScreen({ questions, polls, state });
let ready = false; // the first snapshot has arrived: before it, "no question" only means "not known yet"

function onMessage(message) {
  if (message.type === MessageType.SNAPSHOT && config.role === "studio" && message.role !== "studio") {
    // The link was revoked while the page was open: show nothing that is no longer meant for this screen.
    live.stop();
    state.screen = { mode: "none", poll_id: null };
    showConnection($("[data-connection]"), { state: "gone" });
    $("[data-connection-text]").textContent = t("Dieser Studio-Link ist nicht mehr gültig.");
    screen.draw();
    return;
  }
  if (message.type === MessageType.SNAPSHOT) {
    ready = true;
    screen.fitAgain();
  }
  state.screen = screenOf(message) || state.screen;
  if (message.type === MessageType.EVENT) questions.event = message.event;
  questions.apply(message);
  polls.apply(message);
  screen.draw();
}

const live = connectLive({
  slug: config.slug,
  studio: config.token,
  onMessage,
  onStatus: (status) => showConnection($("[data-connection]"), status),
});

state.screen = { mode: screen.initialMode(), poll_id: null };
setUpHostShortcuts({
  isHost: config.role === "moderator",
  questions,
  urls: eventEndpoints(config.slug),
  isReady: () => ready,
  nextQuestions: screen.nextQuestions,
  draw: screen.draw,
});
screen.watchSize();
screen.tick();
setInterval(screen.tick, 1000);
screen.draw();
