-- Whether a moderator may moderate every event. Before this, "no rows in event_moderators" meant every event, so
-- deleting the last event a moderator was limited to silently opened every event to them.
ALTER TABLE moderators ADD COLUMN all_events INTEGER NOT NULL DEFAULT 1;
UPDATE moderators SET all_events = 0 WHERE id IN (SELECT moderator_id FROM event_moderators);
