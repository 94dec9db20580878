//! Writing many clients at once, for an import: duplicates looked up for a whole batch, then
//! clients and contacts inserted in one statement each.

use chrono::NaiveDate;

use crate::db::TenantTx;
use crate::domain::{ClientFields, ClientId, ContactValue};

use crate::repos::{RepoError, conflict_on};

use super::{CLIENT_UNIQUE, CONTACT_UNIQUE};

/// The clients that imported rows duplicate: for each of `phones` and `emails` (folded) that a
/// client has (as its own phone or email, or as a phone, WhatsApp or email contact), the key
/// (`p:+998…` or `e:name@…`), the client, and whether it is archived.
pub async fn find_duplicates(
    tx: &mut TenantTx,
    phones: &[String],
    emails: &[String],
) -> Result<Vec<(String, ClientId, bool)>, RepoError> {
    let tenant = tx.tenant_id().0;
    // No join on the whole: planned while the table still looks empty (an import's first
    // batches, before it is analysed), a join here rescans the table for every row.
    let rows = sqlx::query!(
        r#"SELECT 'p:' || m.phone AS "key!", m.id AS "id!", m.archived_at IS NOT NULL AS "archived!"
           FROM clients m WHERE m.tenant_id = $1 AND m.phone = ANY($2)
           UNION ALL
           SELECT 'e:' || m.email_folded, m.id, m.archived_at IS NOT NULL
           FROM clients m WHERE m.tenant_id = $1 AND m.email_folded = ANY($3)
           UNION ALL
           SELECT 'p:' || k.value, c.id, c.archived_at IS NOT NULL
           FROM client_contacts k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
           WHERE k.tenant_id = $1 AND k.type IN ('phone', 'whatsapp') AND k.value = ANY($2)
           UNION ALL
           SELECT 'e:' || k.value, c.id, c.archived_at IS NOT NULL
           FROM client_contacts k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
           WHERE k.tenant_id = $1 AND k.type = 'email' AND k.value = ANY($3)"#,
        tenant,
        phones,
        emails
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, ClientId(r.id), r.archived)).collect())
}

/// The clients (archived or not) holding any of `pins`.
pub async fn pin_holders(tx: &mut TenantTx, pins: &[String]) -> Result<Vec<(String, ClientId)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows =
        sqlx::query!(r#"SELECT pin AS "pin!", id FROM clients WHERE tenant_id = $1 AND pin = ANY($2)"#, tenant, pins)
            .fetch_all(tx.conn())
            .await?;
    Ok(rows.into_iter().map(|r| (r.pin, ClientId(r.id))).collect())
}

/// Inserts many clients in one statement; their ids come back in the order given. A phone
/// or PIN that is taken fails the whole statement (`Conflict`).
pub async fn insert_many(tx: &mut TenantTx, many: &[&ClientFields]) -> Result<Vec<ClientId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let col = |f: &dyn Fn(&ClientFields) -> Option<String>| many.iter().map(|c| f(c)).collect::<Vec<Option<String>>>();
    let first_names: Vec<String> = many.iter().map(|c| c.first_name.clone()).collect();
    let dates: Vec<Option<NaiveDate>> = many.iter().map(|c| c.date_of_birth).collect();
    let ids = sqlx::query_scalar!(
        r#"INSERT INTO clients (tenant_id, first_name, last_name, middle_name, phone, email, address, date_of_birth,
                                gender, pin, passport_series, passport_number, comments, company_id, job_title,
                                owner_id)
           SELECT $1, r.f, r.l, r.m, r.p, r.e, r.a, r.d, r.g, r.pin, r.ps, r.pn, r.c, r.co, r.jt, r.o
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::date[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[],
                       $15::text[], $16::bigint[])
                WITH ORDINALITY AS r(f, l, m, p, e, a, d, g, pin, ps, pn, c, co, jt, o, n)
           ORDER BY r.n
           RETURNING id"#,
        tenant,
        &first_names,
        &col(&|c| c.last_name.clone()) as &[Option<String>],
        &col(&|c| c.middle_name.clone()) as &[Option<String>],
        &col(&|c| c.phone.as_ref().map(|p| p.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.email.as_ref().map(|e| e.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.address.clone()) as &[Option<String>],
        &dates as &[Option<NaiveDate>],
        &col(&|c| c.gender.map(|g| g.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.pin.as_ref().map(|p| p.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.passport.as_ref().and_then(|p| p.series.clone())) as &[Option<String>],
        &col(&|c| c.passport.as_ref().map(|p| p.number.clone())) as &[Option<String>],
        &col(&|c| c.comments.clone()) as &[Option<String>],
        &many.iter().map(|c| c.company_id.map(|id| id.0)).collect::<Vec<_>>() as &[Option<i64>],
        &col(&|c| c.job_title.clone()) as &[Option<String>],
        &many.iter().map(|c| c.owner_id.map(|o| o.0)).collect::<Vec<_>>() as &[Option<i64>]
    )
    .fetch_all(tx.conn())
    .await
    .map_err(conflict_on(CLIENT_UNIQUE))?;
    if ids.len() != many.len() {
        return Err(RepoError::Corrupt(format!("{} clients inserted of {}", ids.len(), many.len())));
    }
    Ok(ids.into_iter().map(ClientId).collect())
}

/// Inserts many contacts in one statement (each pair distinct).
pub async fn insert_contacts_many(tx: &mut TenantTx, many: &[(ClientId, &ContactValue)]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let clients: Vec<i64> = many.iter().map(|(c, _)| c.0).collect();
    let kinds: Vec<String> = many.iter().map(|(_, v)| v.kind().as_str().to_owned()).collect();
    let values: Vec<String> = many.iter().map(|(_, v)| v.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO client_contacts (tenant_id, client_id, type, value)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])",
        tenant,
        &clients,
        &kinds,
        &values
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CONTACT_UNIQUE))?;
    Ok(())
}
