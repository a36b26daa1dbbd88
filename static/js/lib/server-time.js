// The server's clock over HTTP (`GET /api/time`), for the sound check: the overlay's clock and the console's delay
// calculator show the same time, whatever the clocks of their machines say.
const SAMPLES = 4;
const RESYNC_MS = 60000;

export function serverClock() {
  let offset = 0; // server time minus this machine's, in ms

  async function sync() {
    let best = Infinity;
    for (let i = 0; i < SAMPLES; i += 1) {
      const sent = Date.now();
      let now;
      try {
        const response = await fetch("/api/time", { cache: "no-store" });
        if (!response.ok) continue;
        now = (await response.json()).now;
      } catch {
        continue; // offline for a moment: keep the last estimate
      }
      const received = Date.now();
      // The quickest answer says most: the server's moment lies within its round trip.
      if (received - sent < best) {
        best = received - sent;
        offset = now - (sent + received) / 2;
      }
    }
  }

  const ready = sync();
  setInterval(sync, RESYNC_MS);
  return { ready, now: () => Date.now() + offset };
}

const CLOCK_FORMAT = new Intl.DateTimeFormat("de-DE", {
  timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

/** "17:30:05,3": the time of day in the events' time zone, with tenths. */
export function clockText(ms) {
  return `${CLOCK_FORMAT.format(new Date(ms))},${Math.floor((ms % 1000) / 100)}`;
}
