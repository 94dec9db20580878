-- Why a queued message's last pass failed, as a code pages translate (`RetryCause`:
-- no_answer, busy, answer_lost) beside `last_error`, the provider's or the network's words.
ALTER TABLE message_deliveries ADD COLUMN last_error_code text;
