//! What the benchmark asks the store to create in bulk (see `renraku bench` and
//! `docs/PERFORMANCE.md`). Bulk loading bypasses the audit trail on purpose: it builds a
//! synthetic municipality in seconds, not a record of anyone's actions.

use renraku_domain::ids::{AccountId, IdentityId, MunicipalityId, RoomId};

/// The size of the synthetic municipality.
#[derive(Debug, Clone, Copy)]
pub struct BenchSpec {
    pub users: usize,
    pub rooms: usize,
    pub posts: usize,
    pub members_per_room: usize,
    /// Read receipts per post, on average.
    pub reads_per_post: usize,
    pub now_ms: i64,
}

/// What the load driver needs: the accounts (with their identities) and each one's rooms.
#[derive(Debug, Clone)]
pub struct BenchData {
    pub municipality_id: MunicipalityId,
    /// (account id, identity id, rooms the account is a member of)
    pub users: Vec<(AccountId, IdentityId, Vec<RoomId>)>,
}

/// A small deterministic generator (xorshift64): the same seed always gives the same data and
/// the same simulated users.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Short Japanese notes of the kind a care team writes, for realistic text and search.
pub const JAPANESE_NOTES: [&str; 8] = [
    "本日訪問しました。血圧は安定しており、食事は全量摂取されています。仙骨部の褥瘡は縮小傾向です。",
    "夜間に発熱あり（37.8℃）。解熱後は落ち着いています。水分摂取を促してください。主治医には報告済みです。",
    "服薬カレンダーを確認しました。昼の薬が残っていたため、ご家族に声かけをお願いしました。",
    "入浴介助を実施。皮膚の発赤なし。次回は福祉用具の見直しについてケアマネジャーと相談予定です。",
    "排便が3日ありません。腹部膨満感の訴えあり。次回訪問時に様子を確認します。",
    "リハビリで歩行器を使って10m歩行できました。転倒に注意しながら自主練習を続けていただきます。",
    "ショートステイ利用の調整ができました。来週月曜日から3泊4日の予定です。連絡帳をご確認ください。",
    "嚥下の状態を確認しました。とろみ剤の使用を継続し、食事形態はきざみ食のままとします。",
];

pub const SHORT_NOTES: [&str; 6] = [
    "BP 128/76, P 72, SpO2 97%",
    "訪問済み。変わりありません。",
    "OK",
    "薬 受け取りました",
    "Checked, no change.",
    "明日 10:00 訪問予定",
];
