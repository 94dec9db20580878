-- How each channel is doing, as its connection tests and deliveries last found it: the last
-- success, and the last failure that was the channel's (no answer, credentials refused) with
-- its cause code and what the provider said. A failure after the last success is a failing
-- channel.
ALTER TABLE channels
    ADD COLUMN health_ok_at timestamptz,
    ADD COLUMN health_error_code text,
    ADD COLUMN health_error text,
    ADD COLUMN health_error_at timestamptz,
    ADD CONSTRAINT channels_health_error_check CHECK ((health_error_code IS NULL) = (health_error_at IS NULL));
