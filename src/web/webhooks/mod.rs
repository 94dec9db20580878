//! Webhooks: providers calling in. No session and no CSRF token — each request proves itself
//! (Twilio's signature, Telegram's secret token) before anything is read into the CRM, and
//! answers at once; slow work (fetching files, notifying staff) happens afterwards.

pub mod telegram;
pub mod twilio;
