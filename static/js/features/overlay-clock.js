// The overlay's sound-check clock (`?clock=1`): the server's time in large digits. A moderator reads it in a
// viewer's picture (on TV, on YouTube) beside the console's clock; the difference is that way's delay.
import { clockText, serverClock } from "../lib/server-time.js";

const element = document.querySelector("[data-overlay-clock-time]");
if (element) {
  const clock = serverClock();
  const draw = () => {
    element.textContent = clockText(clock.now());
  };
  clock.ready.then(draw);
  setInterval(draw, 100);
}
