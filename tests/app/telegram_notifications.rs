//! Notifications on Telegram: a user links their own Telegram by sending the tenant's bot the
//! code their profile gives; from then on what rings their bell also reaches them there, once
//! each however many nodes deliver, until they unlink.

use serde_json::json;

use crate::channels::{app_with_fakes, post_telegram, telegram_update, wait_for};
use crate::fakes::BOT_TOKEN;
use crm::domain::Role;
use crm::services::notifications::TelegramDelivery;

#[tokio::test]
async fn a_user_links_telegram_and_each_notification_reaches_it_once_with_two_nodes() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let (agent, browser) = app.api_and_browser(Role::Agent).await;
    let agent_id = agent.get("/api/v1/me").await.json()["id"].as_i64().unwrap();

    // No bot yet: the profile says so, and asking for a code is refused with a reason.
    let profile = browser.get("/crm/settings/profile").await;
    assert!(profile.body.contains("Your team has no Telegram bot yet"), "{}", profile.body);
    let refused = browser.post("/crm/settings/telegram", &[]).await;
    assert_eq!(refused.location(), Some("/crm/settings/profile"));

    let bot = admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    assert_eq!(bot.status, 201, "{}", bot.body);
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();

    // The profile gives a code, as a link that opens the bot with it.
    assert!(browser.get("/crm/settings/profile").await.body.contains("Link Telegram"));
    let page = browser.post("/crm/settings/telegram", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("https://t.me/acme_crm_bot?start=").expect("the link") + 32;
    let code = page.body[at..at + 16].to_owned();
    assert!(page.body.contains(&format!("/start {code}")), "and the words to send");

    // The bot receives `/start CODE` from the user's chat: linked, told so, and no client is made.
    let start = json!({
        "message_id": 9, "date": 1_763_800_000, "text": format!("/start {code}"),
        "from": {"id": 555000111, "is_bot": false, "first_name": "Agent"},
        "chat": {"id": 555000111, "type": "private", "first_name": "Agent"}
    });
    assert_eq!(post_telegram(&app, Some(&secret), &telegram_update(1, start.clone())).await, 200);
    let chat: Option<i64> = sqlx::query_scalar("SELECT telegram_chat_id FROM users WHERE id = $1")
        .bind(agent_id)
        .fetch_one(&app.owner_pool().await)
        .await
        .unwrap();
    assert_eq!(chat, Some(555000111));
    wait_for("the confirmation", async || !telegram.calls("sendMessage").is_empty()).await;
    assert_eq!(telegram.calls("sendMessage")[0]["text"], "Linked: your CRM notifications will come here.");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM clients").await, 0, "a colleague is not a client");
    assert!(browser.get("/crm/settings/profile").await.body.contains("Unlink Telegram"));
    // The code is used up: sent again, it is a stranger's `/start` (a client).
    assert_eq!(post_telegram(&app, Some(&secret), &telegram_update(2, start)).await, 200);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM users WHERE telegram_chat_id IS NOT NULL").await, 1);

    // 30 tasks given to the user: 30 notifications, each sent once by two nodes at once.
    for i in 0..30 {
        let task =
            admin.post("/api/v1/tasks", json!({"title": format!("Call back {i}"), "assignee_id": agent_id})).await;
        assert_eq!(task.status, 201, "{}", task.body);
    }
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE telegram_state = 'pending'").await, 30);
    let node = || async {
        let pool = crm::db::app_pool(app.owner.clone(), 5).await.unwrap();
        TelegramDelivery::new(pool, app.state.channels.clone())
    };
    let (a, b) = (node().await, node().await);
    let drain = |d: TelegramDelivery| async move { while d.step().await.unwrap() {} };
    tokio::join!(drain(a.clone()), drain(b.clone()));
    let sent: Vec<String> = telegram.calls("sendMessage")[1..]
        .iter()
        .filter(|c| c["chat_id"] == json!(555000111))
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent.len(), 30, "each once: {sent:?}");
    let mut titles: Vec<&str> =
        sent.iter().filter_map(|t| t.split("gave you a task: ").nth(1)?.lines().next()).collect();
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(titles.len(), 30, "{sent:?}");
    assert!(
        sent[0].lines().nth(1).is_some_and(|link| link.starts_with("http") && link.contains("/crm/tasks")),
        "{}",
        sent[0]
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE telegram_state = 'sent'").await, 30);

    // In the user's language once they choose one.
    sqlx::query("UPDATE users SET locale = 'ru' WHERE id = $1")
        .bind(agent_id)
        .execute(&app.owner_pool().await)
        .await
        .unwrap();
    admin.post("/api/v1/tasks", json!({"title": "Позвонить", "assignee_id": agent_id})).await;
    while a.step().await.unwrap() {}
    let last = telegram.calls("sendMessage").last().unwrap()["text"].as_str().unwrap().to_owned();
    assert!(last.contains("Позвонить") && !last.contains("gave you a task"), "{last}");

    // Unlinked: the bell still rings, Telegram hears no more.
    assert_eq!(browser.post("/crm/settings/telegram/unlink", &[]).await.status, 303);
    admin.post("/api/v1/tasks", json!({"title": "Quiet", "assignee_id": agent_id})).await;
    let calls = telegram.calls("sendMessage").len();
    assert!(!a.step().await.unwrap());
    assert_eq!(telegram.calls("sendMessage").len(), calls);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE telegram_state IS NULL").await, 1);
}

#[tokio::test]
async fn a_notification_telegram_refuses_is_tried_again_later_then_given_up_and_stays_in_the_bell() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let (agent, browser) = app.api_and_browser(Role::Agent).await;
    let agent_id = agent.get("/api/v1/me").await.json()["id"].as_i64().unwrap();
    admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    let page = browser.post("/crm/settings/telegram", &[]).await;
    let at = page.body.find("?start=").expect("the link") + 7;
    let start = json!({
        "message_id": 9, "date": 1_763_800_000, "text": format!("/start {}", &page.body[at..at + 16]),
        "from": {"id": 555000222, "is_bot": false, "first_name": "Agent"},
        "chat": {"id": 555000222, "type": "private", "first_name": "Agent"}
    });
    assert_eq!(post_telegram(&app, Some(&secret), &telegram_update(1, start)).await, 200);

    // The user blocked the bot: each try is refused, put off, and after the fifth given up.
    telegram.block(555000222);
    admin.post("/api/v1/tasks", json!({"title": "Call back", "assignee_id": agent_id})).await;
    let node = TelegramDelivery::new(app.pool.clone(), app.state.channels.clone());
    let state = || async {
        sqlx::query_as::<_, (Option<String>, i32, Option<String>, bool)>(
            "SELECT telegram_state, telegram_attempts, telegram_error, telegram_due_at > now() + interval '5 seconds'
             FROM notifications",
        )
        .fetch_one(&app.owner_pool().await)
        .await
        .unwrap()
    };
    assert!(node.step().await.unwrap());
    let (status, attempts, error, later) = state().await;
    assert_eq!((status.as_deref(), attempts, later), (Some("pending"), 1, true), "{error:?}");
    assert!(error.is_some_and(|e| !e.is_empty()));
    assert!(!node.step().await.unwrap(), "not before its time");
    for _ in 0..4 {
        sqlx::query("UPDATE notifications SET telegram_due_at = now()").execute(&app.owner_pool().await).await.unwrap();
        assert!(node.step().await.unwrap());
    }
    let (status, attempts, _, _) = state().await;
    assert_eq!((status.as_deref(), attempts), (Some("failed"), 5));
    let bell = agent.get("/api/v1/notifications").await.json();
    assert_eq!(bell["items"].as_array().unwrap().len(), 1, "the bell still has it: {bell}");
}

#[tokio::test]
async fn a_notification_written_while_no_node_ran_reaches_telegram_once_the_app_starts() {
    let (app, _twilio, telegram) = app_with_fakes().await;
    let admin = app.api(Role::Admin).await;
    let (agent, browser) = app.api_and_browser(Role::Agent).await;
    let agent_id = agent.get("/api/v1/me").await.json()["id"].as_i64().unwrap();
    admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "bot_token": BOT_TOKEN})).await;
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();
    let page = browser.post("/crm/settings/telegram", &[]).await;
    let at = page.body.find("?start=").expect("the link") + 7;
    let start = json!({
        "message_id": 9, "date": 1_763_800_000, "text": format!("/start {}", &page.body[at..at + 16]),
        "from": {"id": 555000333, "is_bot": false, "first_name": "Agent"},
        "chat": {"id": 555000333, "type": "private", "first_name": "Agent"}
    });
    assert_eq!(post_telegram(&app, Some(&secret), &telegram_update(1, start)).await, 200);

    // Written while no worker runs: it waits in PostgreSQL, and the app's own background
    // workers send it at their first pass.
    admin.post("/api/v1/tasks", json!({"title": "Written while down", "assignee_id": agent_id})).await;
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE telegram_state = 'pending'").await, 1);
    let _background = app.start_background();
    let to_user =
        || telegram.calls("sendMessage").into_iter().filter(|c| c["chat_id"] == json!(555000333)).collect::<Vec<_>>();
    wait_for("the notification on Telegram", async || {
        to_user().iter().any(|c| c["text"].as_str().unwrap().contains("Written while down"))
    })
    .await;
    assert_eq!(app.scalar_i64("SELECT count(*) FROM notifications WHERE telegram_state = 'sent'").await, 1);
}
