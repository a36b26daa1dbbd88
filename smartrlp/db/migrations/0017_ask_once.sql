-- The page's key of an ask (the websocket message's ref, or the Idempotency-Key header of its HTTP repeat): an ask
-- sent twice, because its reply was lost (a frozen server, a dropped connection), is stored once.
ALTER TABLE questions ADD COLUMN client_key TEXT;
CREATE UNIQUE INDEX questions_client_key ON questions (event_id, device_id, client_key) WHERE client_key IS NOT NULL;
