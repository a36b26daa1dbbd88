// A short, dismissable hint at the bottom of the viewer page that a poll has opened; it leaves by itself once the
// poll has been in view, or once the viewer has answered it.
import { $ } from "../lib/dom.js";

/** `pollStore` says whether the poll is still open, `list` holds the poll cards (`li[data-id]`). */
export function pollBanner({ pollStore, list }) {
  const banner = { pollId: null, observed: null, timer: null, observer: null };
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  function show(poll, label) {
    banner.pollId = poll.id;
    $("[data-poll-banner] .poll-banner-label").textContent = label;
    $("[data-poll-banner-title]").textContent = poll.title;
    $("[data-poll-banner-go]").href = `#poll-${poll.id}`;
    $("[data-poll-banner]").hidden = false;
    document.body.classList.add("has-poll-banner");
  }

  function hide() {
    banner.pollId = null;
    clearTimeout(banner.timer);
    if (banner.observed) banner.observer.unobserve(banner.observed);
    banner.observed = null;
    $("[data-poll-banner]").hidden = true;
    document.body.classList.remove("has-poll-banner");
  }

  /** After the cards were drawn: the banner goes with its poll, and watches the poll's (new) card. */
  function update() {
    if (banner.pollId === null) return;
    const poll = pollStore.get(banner.pollId);
    if (!poll || poll.state !== "open" || poll.my_ballot) {
      hide();
      return;
    }
    const li = list.querySelector(`li[data-id="${banner.pollId}"]`);
    if (li && li !== banner.observed) {
      if (banner.observed) banner.observer.unobserve(banner.observed);
      banner.observed = li;
      banner.observer.observe(li);
    }
  }

  /** The viewer answered the poll: the banner's work is done. */
  function answered(pollId) {
    if (banner.pollId === pollId) hide();
  }

  function goToPoll(pollId) {
    const target = document.getElementById(`poll-${pollId}-title`) || $("#polls-heading");
    target.scrollIntoView({ block: "start", behavior: reducedMotion.matches ? "auto" : "smooth" });
    target.focus({ preventScroll: true });
  }

  function setUp() {
    banner.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        clearTimeout(banner.timer);
        if (entry.isIntersecting) banner.timer = setTimeout(hide, 4000);
      }
    }, { threshold: 0.4 });
    $("[data-poll-banner-close]").addEventListener("click", hide);
    $("[data-poll-banner-go]").addEventListener("click", (event) => {
      event.preventDefault();
      const pollId = banner.pollId;
      hide();
      goToPoll(pollId);
    });
  }

  return { show, update, setUp, answered };
}
