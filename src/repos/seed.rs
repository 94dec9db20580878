//! Generated data for benchmarks and demos: realistic names, unique phones, emails and PINs.

use crate::db::TenantTx;

use super::RepoError;

/// Inserts `count` clients numbered from `first` (numbers make phones, emails and PINs
/// unique within the tenant), with creation times spread over the last three years. A phone is
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
                         'John','Emma','Liam','Olivia','Noah','Ava','Lucas','Mia','Ethan','Sofia'] AS first,
                   ARRAY['Karimov','Yusupova','Rakhimov','Aliyeva','Tashkentov','Nazarova','Usmanov','Saidova',
                         'Ivanov','Petrova','Smirnov','Kuznetsova','Popov','Volkova','Sokolov','Morozova',
                         'Smith','Johnson','Brown','Taylor','Wilson','Davies','Evans','Thomas','Roberts','Walker'] AS last,
                   ARRAY['Alisherovich','Bakhtiyorovna','Sergeevich','Ivanovna','Timurovich','Olegovna'] AS middle
        )
        INSERT INTO clients (tenant_id, first_name, last_name, middle_name, phone, email, pin, gender, date_of_birth,
                             comments, created_at, updated_at)
        SELECT $1,
               first[1 + (n * 7919) % array_length(first, 1)],
               last[1 + (n * 104729) % array_length(last, 1)],
               CASE WHEN n % 3 = 0 THEN middle[1 + n % array_length(middle, 1)] END,
               '+9989' || (ARRAY['0','1','3','4','5','7','9'])[1 + n % 7]
                   || lpad(((n * 7919 + 1234567) % 10000000)::text, 7, '0'),
               lower(first[1 + (n * 7919) % array_length(first, 1)]) || '.' || n || '@example.uz',
               CASE WHEN n % 2 = 0 THEN lpad((30000000000000 + n)::text, 14, '0') END,
               (ARRAY['male','female','other'])[1 + n % 3],
               date '1960-01-01' + (n * 37 % 20000)::int,
               CASE WHEN n % 10 = 0 THEN 'Prefers calls after 18:00' END,
               now() - ((n * 7 % 1095) || ' days')::interval,
               now() - ((n * 3 % 365) || ' days')::interval
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
