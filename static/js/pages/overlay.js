// The overlay for OBS/vMix browser sources: a lower third that follows the moderator's screen choice on a
// transparent 1920×1080 canvas. The producer places it with query parameters (see docs/obs.md).
import { lowerThird } from "../features/lower-third.js";
import { applyPlacement, fitCanvas } from "../features/overlay-placement.js";
import { PollStore } from "../features/polls.js";
import { QuestionStore } from "../features/questions.js";
import { screenOf } from "../features/studio-screen.js";
import { pageConfig } from "../lib/config.js";
import { $ } from "../lib/dom.js";
import { connectLive } from "../lib/live.js";
import { MessageType } from "../lib/protocol.js";

const config = pageConfig();
const questions = new QuestionStore({ staff: true });
const polls = new PollStore({ staff: true });
const state = { screen: { mode: "none", poll_id: null } };
const canvas = $("[data-canvas]");
const { draw } = lowerThird({ questions, polls, state });

function onMessage(message) {
  if (message.type === MessageType.SNAPSHOT && config.role === "studio" && message.role !== "studio") {
    // The link was revoked: take everything off screen and stop.
    live.stop();
    state.screen = { mode: "none", poll_id: null };
    draw();
    return;
  }
  state.screen = screenOf(message) || state.screen;
  questions.apply(message);
  polls.apply(message);
  draw();
}

applyPlacement(canvas);
fitCanvas(canvas);
window.addEventListener("resize", () => fitCanvas(canvas));
const live = connectLive({ slug: config.slug, studio: config.token, onMessage, onStatus: () => {} });
