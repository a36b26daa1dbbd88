-- The event's life (issue 15).

-- After the end an event takes no new questions; a moderator may reopen them until this moment (UTC, ISO 8601).
ALTER TABLE events ADD COLUMN questions_until TEXT;

-- Events are drafts until an admin publishes them: drafts are not listed and cannot be joined. Every event made
-- before drafts existed was public, so it counts as published when it was created.
ALTER TABLE events ADD COLUMN published_at TEXT;
UPDATE events SET published_at = created_at;
