//! Generated data for benchmarks and demos: realistic names, unique phones, emails and PINs.

use crate::db::TenantTx;

use super::RepoError;
use crate::domain::tag::TagName;

/// Inserts `count` clients numbered from `first` (numbers make phones, emails and PINs
/// unique within the tenant; one name in seven is Cyrillic, its email Latin), with creation times spread over the last three years and
/// update times over the last one. A phone is
/// an Uzbek mobile number whose seven digits are the client's number scrambled (a bijection, so
/// still unique): sequential, zero-padded digits would make every number look alike to a
/// trigram index, which real numbers do not.
pub async fn clients(tx: &mut TenantTx, first: i64, count: i64) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        r#"
        WITH names AS (
            SELECT ARRAY['Aziz','Dilnoza','Sardor','Madina','Jasur','Nodira','Bekzod','Gulnora','Timur','Zarina',
                         'Olga','Sergey','Anna','Dmitry','Elena','Ivan','Maria','Alexey','Natalia','Pavel',
                         'John','Emma','Liam','Olivia','Noah','Ava','Lucas','Mia','Ethan','Sofia',
                         'Мадина','Шахзод','Ольга','Сергей','Ўктам'] AS first,
                   ARRAY['Karimov','Yusupova','Rakhimov','Aliyeva','Tashkentov','Nazarova','Usmanov','Saidova',
                         'Ivanov','Petrova','Smirnov','Kuznetsova','Popov','Volkova','Sokolov','Morozova',
                         'Smith','Johnson','Brown','Taylor','Wilson','Davies','Evans','Thomas','Roberts','Walker',
                         'Каримова','Иванов','Юсупов','Хасанова'] AS last,
                   ARRAY['Alisherovich','Bakhtiyorovna','Sergeevich','Ivanovna','Timurovich','Olegovna'] AS middle
        )
        INSERT INTO clients (tenant_id, first_name, last_name, middle_name, phone, email, pin, gender, date_of_birth,
                             comments, created_at, updated_at)
        SELECT $1,
               first[1 + (n * 7919) % array_length(first, 1)],
               -- Surname and patronymic independent of the first name (a step in step with n
               -- paired each first name with half the surnames and left four patronymics out):
               -- n read as digits of mixed radix, one digit per list.
               last[1 + (n / array_length(first, 1)) % array_length(last, 1)],
               CASE WHEN (n / (array_length(first, 1) * array_length(last, 1) * array_length(middle, 1))) % 3 = 0
                    THEN middle[1 + (n / (array_length(first, 1) * array_length(last, 1))) % array_length(middle, 1)] END,
               '+9989' || (ARRAY['0','1','3','4','5','7','9'])[1 + n % 7]
                   || lpad(((n * 7919 + 1234567) % 10000000)::text, 7, '0'),
               search_fold(first[1 + (n * 7919) % array_length(first, 1)]) || '.' || n || '@example.uz',
               CASE WHEN n % 2 = 0 THEN lpad((30000000000000 + n)::text, 14, '0') END,
               (ARRAY['male','female','other'])[1 + n % 3],
               date '1960-01-01' + (n * 37 % 20000)::int,
               CASE WHEN n % 10 = 0 THEN 'Prefers calls after 18:00' END,
               now() - ((n * 7 % 1095) || ' days')::interval,
               -- Last changed some time in the past year, independently of the name (a step
               -- of days in step with n made the most recent clients share a few first names).
               now() - (((n * 48271) % 2147483647 % 31536000) || ' seconds')::interval
        FROM names, generate_series($2::bigint, $2::bigint + $3::bigint - 1) AS n
        "#,
        tenant,
        first,
        count
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Gives `count` clients of the tenant (from the `skip`-th by id) a chat of `per_chat`
/// messages, alternating client and agent, spread over the last few days; one chat in ten
/// ends with unread client messages. Returns the messages written.
pub async fn chats(tx: &mut TenantTx, skip: i64, count: i64, per_chat: i32) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO chats (tenant_id, client_id)
         SELECT $1, id FROM clients WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY id LIMIT $2 OFFSET $3
         ON CONFLICT (tenant_id, client_id) DO NOTHING",
        tenant,
        count,
        skip
    )
    .execute(tx.conn())
    .await?;
    let written = sqlx::query!(
        r#"
        WITH batch AS (
            SELECT h.id, c.first_name FROM chats h JOIN clients c ON c.tenant_id = h.tenant_id AND c.id = h.client_id
            WHERE h.tenant_id = $1 AND h.last_message_id IS NULL
            ORDER BY c.id LIMIT $2
        ), texts AS (
            SELECT ARRAY['Hello! Is the apartment on Navoi street still available?',
                         'Good afternoon, when can I pick up my documents?',
                         'Thank you, received.', 'Can you send the contract again, please?',
                         'Здравствуйте! Подскажите, пожалуйста, стоимость доставки.',
                         'Спасибо, всё получили.', 'Когда будет готов заказ?',
                         'Assalomu alaykum! Buyurtmam qachon tayyor bo''ladi?', 'Rahmat, oldim.',
                         'Our manager will call you within the hour.', 'Your order has shipped.',
                         'Please confirm the delivery address.'] AS body
        )
        INSERT INTO messages (tenant_id, chat_id, direction, sender_name, body, transport, status, created_at, sent_at,
                              read_at)
        SELECT $1, b.id,
               CASE WHEN k % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
               CASE WHEN k % 2 = 1 THEN b.first_name ELSE 'Seed Admin' END,
               texts.body[1 + (b.id * 31 + k) % array_length(texts.body, 1)],
               (ARRAY['sms', 'whatsapp', 'telegram'])[1 + b.id % 3],
               CASE WHEN k % 2 = 0 THEN 'delivered' END,
               now() - ((b.id * 7919 % 600000) || ' seconds')::interval - (($3 - k) || ' minutes')::interval,
               CASE WHEN k % 2 = 0 THEN now() - ((b.id * 7919 % 600000) || ' seconds')::interval END,
               CASE WHEN k % 2 = 1 AND NOT (b.id % 10 = 0 AND k > $3 - 3) THEN now() END
        FROM batch b, texts, generate_series(1, $3::int) AS k
        "#,
        tenant,
        count,
        per_chat
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    sqlx::query!(
        "UPDATE chats h SET last_message_id = m.last_id, last_message_at = m.last_at, unread_count = m.unread
         FROM (SELECT chat_id, max(id) AS last_id, max(created_at) AS last_at,
                      count(*) FILTER (WHERE direction = 'inbound' AND read_at IS NULL) AS unread
               FROM messages WHERE tenant_id = $1 AND chat_id IN (SELECT id FROM chats WHERE tenant_id = $1
                                                                  AND last_message_id IS NULL)
               GROUP BY chat_id) m
         WHERE h.tenant_id = $1 AND h.id = m.chat_id",
        tenant
    )
    .execute(tx.conn())
    .await?;
    Ok(written)
}

/// Inserts `count` deals numbered from `first` into the tenant's first pipeline: spread evenly
/// over its stages in board order, owned in turn by the tenant's users, each for one of its
/// clients (in turn, when there are any), valued in the base currency from 100 to 100,000, each
/// with the move that put it in its stage. Returns the deals written.
pub async fn deals(tx: &mut TenantTx, first: i64, count: i64) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let written = sqlx::query!(
        r#"
        WITH p AS (SELECT id FROM pipelines WHERE tenant_id = $1 ORDER BY position, id LIMIT 1),
        st AS (SELECT s.id, row_number() OVER (ORDER BY s.position, s.id) - 1 AS n, count(*) OVER () AS total
               FROM pipeline_stages s JOIN p ON p.id = s.pipeline_id WHERE s.tenant_id = $1),
        owners AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE tenant_id = $1 AND active),
        cl AS (SELECT min(id) AS lo, max(id) AS hi FROM clients WHERE tenant_id = $1),
        base AS (SELECT base_currency FROM tenants WHERE id = $1),
        titles AS (SELECT ARRAY['Flat on Navoi', 'Office lease', 'Warehouse', 'Annual contract', 'Delivery deal',
                                'Квартира на Чиланзаре', 'Поставка оборудования', 'Uy sotuvi', 'Yillik shartnoma',
                                'Website redesign', 'Fleet insurance', 'Catering order'] AS t)
        INSERT INTO deals (tenant_id, title, pipeline_id, stage_id, position, value, currency, value_base,
                           client_id, owner_id, expected_close_on, created_at, updated_at, stage_entered_at)
        SELECT $1, titles.t[1 + (k / 7) % array_length(titles.t, 1)] || ' ' || k, p.id, st.id, (k / st.total) * 1024.0,
               v.amount, base.base_currency, v.amount,
               CASE WHEN cl.lo IS NOT NULL THEN cl.lo + (k * 7919) % (cl.hi - cl.lo + 1) END,
               owners.ids[1 + k % array_length(owners.ids, 1)],
               current_date + ((k * 31) % 120 - 30)::int,
               now() - ((k * 7919) % 31536000 || ' seconds')::interval,
               now() - ((k * 104729) % 2592000 || ' seconds')::interval,
               now() - ((k * 15485863) % 2592000 || ' seconds')::interval
        FROM generate_series($2::bigint, $2::bigint + $3::bigint - 1) AS k
        CROSS JOIN p CROSS JOIN owners CROSS JOIN cl CROSS JOIN base CROSS JOIN titles
        JOIN st ON st.n = k % st.total
        CROSS JOIN LATERAL (SELECT round((100 + (k * 7919) % 99900)::numeric, 2) AS amount) v
        "#,
        tenant,
        first,
        count
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    sqlx::query!(
        "INSERT INTO deal_moves (tenant_id, deal_id, to_stage_id, to_stage_name, user_id, moved_at)
         SELECT d.tenant_id, d.id, d.stage_id, s.name, d.owner_id, d.stage_entered_at
         FROM deals d JOIN pipeline_stages s ON s.tenant_id = d.tenant_id AND s.id = d.stage_id
         WHERE d.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM deal_moves m WHERE m.tenant_id = $1 AND m.deal_id = d.id)",
        tenant
    )
    .execute(tx.conn())
    .await?;
    Ok(written)
}

/// The tags a seed puts on deals, and on which share of them: a common one, a rarer one and a
/// rare one (by the deal's id, so the same deals whatever the batch).
pub const DEAL_TAGS: [(&str, &str, i64); 3] =
    [("Referral", "#16a34a", 5), ("Hot", "#ea580c", 10), ("VIP", "#dc2626", 100)];

/// Makes the seed's tags (`DEAL_TAGS`) if the tenant has not got them, and puts each on its
/// share of the tenant's deals (one in 5, 10 and 100) that do not carry it yet. Returns the
/// tags put on.
pub async fn deal_tags(tx: &mut TenantTx) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let mut written = 0;
    for (name, color, every) in DEAL_TAGS {
        let key = seed_tag(tx, name, color).await?;
        written += sqlx::query!(
            "INSERT INTO deal_tags (tenant_id, deal_id, tag_id)
             SELECT $1, d.id, t.id FROM deals d
             JOIN tags t ON t.tenant_id = d.tenant_id AND t.name_key = $2
             WHERE d.tenant_id = $1 AND d.id % $3 = 0
             ON CONFLICT DO NOTHING",
            tenant,
            key,
            every
        )
        .execute(tx.conn())
        .await?
        .rows_affected();
    }
    Ok(written)
}

/// The tags a seed puts on clients, and on which share of them: a common one, a rare one and
/// a very rare one. Clients are picked by a hash of their id: a seeded client's names follow
/// its id, and every fifth id would give the tag to a few first names only.
pub const CLIENT_TAGS: [(&str, &str, i64); 3] =
    [("Referral", "#16a34a", 5), ("VIP", "#dc2626", 100), ("Partner", "#2563eb", 1000)];

/// Makes the seed's client tags (`CLIENT_TAGS`) if the tenant has not got them, and puts each
/// on its share of the tenant's clients that do not carry it yet. Returns the tags put on.
pub async fn client_tags(tx: &mut TenantTx) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let mut written = 0;
    for (n, (name, color, every)) in (0_i64..).zip(CLIENT_TAGS) {
        let key = seed_tag(tx, name, color).await?;
        written += sqlx::query!(
            "INSERT INTO client_tags (tenant_id, client_id, tag_id)
             SELECT $1, c.id, t.id FROM clients c
             JOIN tags t ON t.tenant_id = c.tenant_id AND t.name_key = $2
             WHERE c.tenant_id = $1 AND abs(hashint8(c.id)::bigint) % $3 = $4
             ON CONFLICT DO NOTHING",
            tenant,
            key,
            every,
            n
        )
        .execute(tx.conn())
        .await?
        .rows_affected();
    }
    Ok(written)
}

/// The seed's client field: `tier`, a select, and the share of clients holding each option
/// (by a hash of the client's id, in hundredths: Platinum 1, Gold 9, Silver 30, Bronze 60).
pub const CLIENT_TIERS: [(&str, i64); 4] = [("Platinum", 1), ("Gold", 9), ("Silver", 30), ("Bronze", 60)];

/// Makes the seed's `tier` field if the tenant has not got it, and gives each client that
/// has no tier yet its share's (`CLIENT_TIERS`). Returns the clients given one.
pub async fn client_tiers(tx: &mut TenantTx) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    let options: Vec<&str> = CLIENT_TIERS.iter().map(|(o, _)| *o).collect();
    sqlx::query!(
        "INSERT INTO custom_fields (tenant_id, entity, key, label, kind, options, position)
         VALUES ($1, 'client', 'tier', 'Tier', 'select', $2, 1) ON CONFLICT (tenant_id, entity, key) DO NOTHING",
        tenant,
        serde_json::json!(options)
    )
    .execute(tx.conn())
    .await?;
    let written = sqlx::query!(
        "UPDATE clients SET custom = custom || jsonb_build_object('tier', CASE
                WHEN abs(hashint8(id * 7)::bigint) % 100 < 1 THEN 'Platinum'
                WHEN abs(hashint8(id * 7)::bigint) % 100 < 10 THEN 'Gold'
                WHEN abs(hashint8(id * 7)::bigint) % 100 < 40 THEN 'Silver' ELSE 'Bronze' END)
         WHERE tenant_id = $1 AND NOT custom ? 'tier'",
        tenant
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(written)
}

/// Makes a seed tag unless the tenant has one of its name; its name's key.
async fn seed_tag(tx: &mut TenantTx, name: &str, color: &str) -> Result<String, RepoError> {
    let tenant = tx.tenant_id().0;
    let key = TagName::parse(name).map_err(|_| RepoError::Corrupt(format!("seed tag {name}")))?.key();
    sqlx::query!(
        "INSERT INTO tags (tenant_id, name, name_key, color) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, name_key) DO NOTHING",
        tenant,
        name,
        key,
        color
    )
    .execute(tx.conn())
    .await?;
    Ok(key)
}

/// Gathers the planner's statistics on every table a seed fills (as the owner: the app role
/// may not), so the first queries after a seed are planned on facts, not on empty tables.
pub async fn analyze(pool: &sqlx::PgPool) -> Result<(), RepoError> {
    sqlx::query!("SELECT analyze_seeded_tables()").execute(pool).await?;
    Ok(())
}
