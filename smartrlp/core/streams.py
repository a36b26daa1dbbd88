"""Stream addresses: which provider, and the privacy-friendly embed address for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "www.youtube-nocookie.com"}
_FACEBOOK_HOSTS = {"facebook.com", "www.facebook.com", "m.facebook.com", "fb.watch"}


@dataclass(frozen=True, slots=True)
class Stream:
    provider: str  # "youtube" or "facebook"
    label: str
    url: str
    embed_url: str
    # Who receives the viewer's data once the embed loads: shown on the consent placeholder.
    recipient: str

    def as_json(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "label": self.label,
            "url": self.url,
            "embed_url": self.embed_url,
            "recipient": self.recipient,
        }


def youtube_video_id(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or parts.hostname not in _YOUTUBE_HOSTS:
        return None
    path = [p for p in parts.path.split("/") if p]
    candidate = None
    if parts.hostname == "youtu.be" and path:
        candidate = path[0]
    elif path[:1] == ["watch"]:
        candidate = (parse_qs(parts.query).get("v") or [None])[0]
    elif len(path) >= 2 and path[0] in {"embed", "live", "shorts", "v"}:
        candidate = path[1]
    return candidate if candidate and _YOUTUBE_ID.match(candidate) else None


# YouTube's own captions, switched on and in German, for a stream that has them (the event says so).
YOUTUBE_CAPTIONS = "&cc_load_policy=1&cc_lang_pref=de"


def youtube(url: str, *, captions: bool = False) -> Stream | None:
    video_id = youtube_video_id(url)
    if video_id is None:
        return None
    return Stream(
        provider="youtube",
        label="YouTube",
        url=f"https://www.youtube.com/watch?v={video_id}",
        # The no-cookie domain sets no cookies until the viewer plays the video.
        # enablejsapi: the viewer page asks the player how far behind the studio it runs (stream-delay.js).
        embed_url=f"https://www.youtube-nocookie.com/embed/{video_id}?rel=0&enablejsapi=1"
        + (YOUTUBE_CAPTIONS if captions else ""),
        recipient="YouTube (Google Ireland Limited)",
    )


def facebook(url: str) -> Stream | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or parts.hostname not in _FACEBOOK_HOSTS:
        return None
    if parts.hostname != "fb.watch" and "/videos/" not in parts.path and parts.path != "/watch/":
        return None
    canonical = url.strip()
    return Stream(
        provider="facebook",
        label="Facebook",
        url=canonical,
        embed_url="https://www.facebook.com/plugins/video.php?show_text=false&href=" + quote(canonical, safe=""),
        recipient="Facebook (Meta Platforms Ireland Limited)",
    )


def streams_of(youtube_url: str | None, facebook_url: str | None, *, captions: bool = False) -> list[Stream]:
    found = [
        youtube(youtube_url, captions=captions) if youtube_url else None,
        facebook(facebook_url) if facebook_url else None,
    ]
    return [s for s in found if s is not None]
