-- Access for every viewer: how far behind the studio each way of watching runs, and captions and interpreting.

-- Whole seconds (0-120) from the studio to what a viewer sees on YouTube, on Facebook and on the TV channels that
-- rebroadcast the event; measured at the sound check. The viewer page waits that long before it shows what the
-- video shows (the question on air, a new poll), and a poll takes ballots for the largest of them after its close.
ALTER TABLE events ADD COLUMN stream_delay_youtube INTEGER NOT NULL DEFAULT 0
    CHECK (stream_delay_youtube BETWEEN 0 AND 120);
ALTER TABLE events ADD COLUMN stream_delay_facebook INTEGER NOT NULL DEFAULT 0
    CHECK (stream_delay_facebook BETWEEN 0 AND 120);
ALTER TABLE events ADD COLUMN stream_delay_tv INTEGER NOT NULL DEFAULT 0 CHECK (stream_delay_tv BETWEEN 0 AND 120);

-- A page with live captions (speech-to-text) and a stream with a sign-language interpreter, both optional.
ALTER TABLE events ADD COLUMN captions_url TEXT;
ALTER TABLE events ADD COLUMN sign_language_url TEXT;
-- The YouTube stream carries captions: its embed then turns them on, in German.
ALTER TABLE events ADD COLUMN stream_captions INTEGER NOT NULL DEFAULT 0;
