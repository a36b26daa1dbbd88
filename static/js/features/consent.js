// The stream loads only after the viewer agrees; the choice may be remembered on this device only.
const STORAGE_KEY = "smartrlp.streamConsent";

function remembered() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
  } catch {
    return {};
  }
}

function remember(provider, yes) {
  const choices = remembered();
  if (yes) choices[provider] = true;
  else delete choices[provider];
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(choices));
  } catch {
    // Private mode without storage: the consent then lasts for this page only.
  }
}

export function setUpStream(root = document) {
  const frame = root.querySelector("[data-stream-frame]");
  if (!frame) return;
  const placeholders = [...frame.querySelectorAll("[data-consent]")];
  const switches = [...root.querySelectorAll("[data-provider]")];
  const forgetWrap = root.querySelector("[data-consent-forget-wrap]");
  let current = placeholders[0]?.dataset.consent;

  function load(placeholder) {
    const iframe = document.createElement("iframe");
    iframe.src = placeholder.dataset.embed;
    iframe.title = placeholder.dataset.title;
    iframe.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    iframe.allowFullscreen = true;
    iframe.referrerPolicy = "strict-origin-when-cross-origin";
    iframe.dataset.embedFor = placeholder.dataset.consent;
    placeholder.hidden = true;
    placeholder.after(iframe);
    if (forgetWrap) forgetWrap.hidden = false;
  }

  function show(provider) {
    current = provider;
    for (const button of switches) button.setAttribute("aria-pressed", String(button.dataset.provider === provider));
    for (const iframe of frame.querySelectorAll("iframe")) iframe.remove();
    for (const placeholder of placeholders) placeholder.hidden = placeholder.dataset.consent !== provider;
    const placeholder = placeholders.find((p) => p.dataset.consent === provider);
    if (placeholder && remembered()[provider]) load(placeholder);
  }

  for (const placeholder of placeholders) {
    placeholder.querySelector("[data-consent-accept]").addEventListener("click", () => {
      const rememberBox = placeholder.querySelector("[data-consent-remember]");
      remember(placeholder.dataset.consent, rememberBox && rememberBox.checked);
      load(placeholder);
    });
  }
  for (const button of switches) button.addEventListener("click", () => show(button.dataset.provider));
  root.querySelector("[data-consent-forget]")?.addEventListener("click", () => {
    for (const placeholder of placeholders) remember(placeholder.dataset.consent, false);
    if (forgetWrap) forgetWrap.hidden = true;
    show(current);
  });
  if (current) show(current);
}
