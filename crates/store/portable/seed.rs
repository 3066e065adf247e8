//! Bulk loading for the benchmark, in portable SQL (multi-row INSERTs through a query builder,
//! large transactions). Included by both backends.

use renraku_store::bench::{BenchData, BenchSpec, JAPANESE_NOTES, Rng, SHORT_NOTES};
use renraku_store::*;
use sqlx::QueryBuilder;

use crate::{Db, SqlStore};

/// Rows per INSERT statement (well under SQLite's 32,766 bound parameters).
const BATCH: usize = 500;

/// A UUIDv7 for a given moment, so that ids sort like times (timeline cursors rely on it).
fn id_at(ms: i64, rng: &mut Rng) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    let rand = rng.next_u64();
    let hi = (ms << 16) | 0x7000 | (rand & 0x0fff);
    let lo = (rand >> 12) & 0x3fff_ffff_ffff_ffff | 0x8000_0000_0000_0000;
    let v = (u128::from(hi) << 64) | u128::from(lo);
    uuid::Uuid::from_u128(v).to_string()
}

impl SqlStore {
    async fn bulk<T>(
        &self,
        head: &'static str,
        rows: &[T],
        bind: impl Fn(sqlx::query_builder::Separated<'_, Db, &'static str>, &T) + Copy,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for chunk in rows.chunks(BATCH) {
            let mut q: QueryBuilder<Db> = QueryBuilder::new(head);
            q.push_values(chunk, bind);
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a municipality of `spec.users` professionals and `spec.rooms` rooms holding
    /// `spec.posts` posts with read receipts, vitals and some attachment records.
    pub async fn seed_bench(&self, spec: &BenchSpec) -> anyhow::Result<BenchData> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let now = spec.now_ms;
        let settings = MunicipalitySettings {
            idle_timeout_secs: 240 * 60,
            absolute_timeout_secs: 24 * 3600,
            ..MunicipalitySettings::default()
        };
        let audit = AuditDraft {
            at_ms: now,
            actor_login: "bench".into(),
            ..AuditDraft::new(renraku_domain::audit_action::AuditAction::BenchSeed)
        };
        let new = NewMunicipality {
            code: renraku_domain::directory::MunicipalityCode::from_trusted(format!(
                "{:06}",
                900_000 + rng.below(99_999)
            )),
            name: renraku_domain::directory::Name::from_trusted("ベンチ市".into()),
            settings,
        };
        let m = self.create_municipality(&new, &audit).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mid = m.id.clone();

        let facilities: Vec<String> =
            (0..spec.users.div_ceil(10)).map(|_| new_id::<FacilityId>().to_string()).collect();
        self.bulk(
            "INSERT INTO facilities (id, municipality_id, corp_name, corp_kana, corp_representative, corp_postal_code, \
             corp_address, corp_phone, name, kana, postal_code, address, phone, service_category, administrator, \
             created_at_ms, updated_at_ms) ",
            &facilities,
            |mut b, id| {
                b.push_bind(id.clone()).push_bind(mid.as_str());
                for v in ["医療法人ベンチ", "いりょうほうじんべんち", "代表 太郎", "270-0192", "千葉県流山市1-1", "0471580000"] {
                    b.push_bind(v);
                }
                for v in ["ベンチ訪問看護", "べんちほうもんかんご", "270-0192", "千葉県流山市2-2", "0471581111", "home_nursing", "管理 花子"] {
                    b.push_bind(v);
                }
                b.push_bind(now).push_bind(now);
            },
        )
        .await?;

        let people: Vec<(String, String, String)> = (0..spec.users)
            .map(|i| {
                (
                    new_id::<AccountId>().to_string(),
                    new_id::<IdentityId>().to_string(),
                    format!("bench{i:05}"),
                )
            })
            .collect();
        self.bulk(
            "INSERT INTO identities (id, login_id, password_hash, password_changed_at_ms, totp_secret, created_at_ms) ",
            &people,
            |mut b, (_, identity, login)| {
                b.push_bind(identity.clone())
                    .push_bind(login.clone())
                    .push_bind("$argon2id$bench")
                    .push_bind(now)
                    .push_bind(vec![0u8; 4])
                    .push_bind(now);
            },
        )
        .await?;
        let with_facility: Vec<(usize, &(String, String, String))> = people.iter().enumerate().collect();
        self.bulk(
            "INSERT INTO accounts (id, identity_id, municipality_id, facility_id, role, name, kana, occupation, \
             is_manager, careplan, status, created_at_ms, updated_at_ms) ",
            &with_facility,
            |mut b, (i, (account, identity, _))| {
                b.push_bind(account.clone())
                    .push_bind(identity.clone())
                    .push_bind(mid.as_str())
                    .push_bind(facilities[i / 10].clone())
                    .push_bind("member")
                    .push_bind(format!("職員 {i:05}"))
                    .push_bind("しょくいん")
                    .push_bind(if i % 5 == 0 { "care_manager" } else { "nurse" })
                    .push_bind(i % 10 == 0)
                    .push_bind(false)
                    .push_bind("active")
                    .push_bind(now)
                    .push_bind(now);
            },
        )
        .await?;

        let rooms: Vec<(String, String)> = (0..spec.rooms)
            .map(|_| (new_id::<RoomId>().to_string(), new_id::<PatientId>().to_string()))
            .collect();
        self.bulk(
            "INSERT INTO patients (id, municipality_id, name, kana, birth_date, sex, address, care_level, contacts, created_at_ms) ",
            &rooms,
            |mut b, (_, patient)| {
                b.push_bind(patient.clone()).push_bind(mid.as_str());
                for v in ["利用者 花子", "りようしゃ はなこ", "1940-01-01", "female", "千葉県流山市3-3", "care3", ""] {
                    b.push_bind(v);
                }
                b.push_bind(now);
            },
        )
        .await?;
        self.bulk(
            "INSERT INTO rooms (id, municipality_id, patient_id, name, status, created_at_ms) ",
            &rooms,
            |mut b, (room, patient)| {
                b.push_bind(room.clone())
                    .push_bind(mid.as_str())
                    .push_bind(patient.clone())
                    .push_bind("利用者 花子さん")
                    .push_bind("open")
                    .push_bind(now - 90 * 86_400_000);
            },
        )
        .await?;

        // Members: consecutive slices of the user list, so each user sits in the same number
        // of rooms.
        let mut memberships: Vec<(usize, usize)> = vec![];
        for r in 0..spec.rooms {
            for k in 0..spec.members_per_room {
                memberships.push((r, (r * spec.members_per_room + k) % spec.users));
            }
        }
        self.bulk(
            "INSERT INTO room_members (id, municipality_id, room_id, account_id, joined_at_ms) ",
            &memberships,
            |mut b, (r, u)| {
                b.push_bind(new_id::<MembershipId>().to_string())
                    .push_bind(mid.as_str())
                    .push_bind(rooms[*r].0.clone())
                    .push_bind(people[*u].0.clone())
                    .push_bind(now - 90 * 86_400_000);
            },
        )
        .await?;

        // Posts, oldest first, spread over the last 90 days; then receipts and attachments.
        let span = 90 * 86_400_000i64;
        let mut posts: Vec<(String, usize, usize, i64, u8)> = Vec::with_capacity(spec.posts);
        for i in 0..spec.posts {
            let at = now - span + (i as i64 * span) / spec.posts as i64;
            let r = rng.below(spec.rooms);
            let author = (r * spec.members_per_room + rng.below(spec.members_per_room)) % spec.users;
            posts.push((id_at(at, &mut rng), r, author, at, (rng.next_u64() % 100) as u8));
        }
        for chunk in posts.chunks(50_000) {
            self.bulk(
                "INSERT INTO posts (id, municipality_id, room_id, author_account_id, category, importance, body, \
                 ack_requested, systolic, diastolic, temperature_tenths, created_at_ms) ",
                chunk,
                |mut b, (id, r, author, at, dice)| {
                    let japanese = *dice < 30;
                    let vitals = (30..50).contains(dice);
                    let body = if japanese {
                        JAPANESE_NOTES[*dice as usize % JAPANESE_NOTES.len()]
                    } else {
                        SHORT_NOTES[*dice as usize % SHORT_NOTES.len()]
                    };
                    b.push_bind(id.clone())
                        .push_bind(mid.as_str())
                        .push_bind(rooms[*r].0.clone())
                        .push_bind(people[*author].0.clone())
                        .push_bind(if vitals { "vitals" } else { "visit" })
                        .push_bind(if *dice == 99 { "urgent" } else { "normal" })
                        .push_bind(body)
                        .push_bind(*dice == 98)
                        .push_bind(vitals.then_some(110 + i64::from(*dice)))
                        .push_bind(vitals.then_some(60 + i64::from(*dice) / 2))
                        .push_bind(vitals.then_some(360 + i64::from(*dice) % 15))
                        .push_bind(*at);
                },
            )
            .await?;
            let mut reads = vec![];
            for (id, r, author, at, dice) in chunk {
                for k in 0..spec.reads_per_post.min(spec.members_per_room - 1) {
                    let reader = (r * spec.members_per_room
                        + (usize::from(*dice) + k) % spec.members_per_room)
                        % spec.users;
                    if reader != *author {
                        reads.push((
                            id.clone(),
                            people[reader].0.clone(),
                            rooms[*r].0.clone(),
                            at + 3_600_000,
                        ));
                    }
                }
            }
            // In the table's order (room first), as receipts are kept.
            reads.sort_unstable_by(|a, b| (&a.2, &a.0, &a.1).cmp(&(&b.2, &b.0, &b.1)));
            self.bulk(
                "INSERT INTO post_reads (post_id, account_id, room_id, read_at_ms) ",
                &reads,
                |mut b, (post, account, room, at)| {
                    b.push_bind(post.clone())
                        .push_bind(account.clone())
                        .push_bind(room.clone())
                        .push_bind(*at);
                },
            )
            .await?;
            let files: Vec<&(String, usize, usize, i64, u8)> =
                chunk.iter().filter(|p| p.4 % 33 == 0).collect();
            self.bulk(
                "INSERT INTO attachments (id, municipality_id, room_id, post_id, kind, name, size, width, height, \
                 content_key, thumb_key, created_at_ms) ",
                &files,
                |mut b, (post, r, _, at, _)| {
                    let id = new_id::<AttachmentId>().to_string();
                    b.push_bind(id.clone())
                        .push_bind(mid.as_str())
                        .push_bind(rooms[*r].0.clone())
                        .push_bind(post.clone())
                        .push_bind("photo")
                        .push_bind("photo.jpg")
                        .push_bind(180_000i64)
                        .push_bind(1280i64)
                        .push_bind(960i64)
                        .push_bind(id.clone())
                        .push_bind(format!("{id}-thumb"))
                        .push_bind(*at);
                },
            )
            .await?;
        }
        // Rooms' latest activity, as posting keeps it.
        let mut tx = self.begin().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        sqlx::query("UPDATE rooms SET last_post_at_ms = (SELECT MAX(created_at_ms) FROM posts p WHERE p.room_id = rooms.id) WHERE municipality_id = $1")
            .bind(mid.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        // Ids this function has just written: trusted as stored.
        let mut users: Vec<(AccountId, IdentityId, Vec<RoomId>)> = people
            .iter()
            .map(|(account, identity, _)| {
                (AccountId::from_stored(account.clone()), IdentityId::from_stored(identity.clone()), vec![])
            })
            .collect();
        for (r, u) in memberships {
            users[u].2.push(RoomId::from_stored(rooms[r].0.clone()));
        }
        Ok(BenchData { municipality_id: mid, users })
    }
}
