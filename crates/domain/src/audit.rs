//! The audit trail's tamper evidence (G1). Entries form one hash chain per municipality: each
//! entry's seal is an HMAC-SHA256, keyed with a server secret that is not in the database, over
//! the previous seal and every field of the entry. Deleting, inserting, reordering or altering an
//! entry breaks the chain from that point on, and without the key the chain cannot be re-sealed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The chain that holds server-wide (operator) events, which belong to no municipality.
pub const OPERATOR_CHAIN: &str = "operator";

/// The seal before the first entry of every chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the operator chain's `municipality.create` entry carries in its detail when the
/// municipality's own chain was opened with it (municipalities created before chains were opened
/// this way have chains that start with any entry).
pub const CHAIN_OPENED_DETAIL: &str = "chain_opened";

/// Everything an audit entry says. `seq` counts from 1 within its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFacts {
    pub chain: String,
    pub seq: i64,
    pub at_ms: i64,
    pub actor_account_id: Option<String>,
    pub actor_login: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub outcome: String,
    pub detail: String,
}

/// Computes seals. Holds the server's audit key.
#[derive(Clone)]
pub struct AuditSealer {
    key: Vec<u8>,
}

impl std::fmt::Debug for AuditSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditSealer(<redacted>)")
    }
}

/// Where a chain stops being intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's seal does not match its content and the previous seal.
    Altered { seq: i64 },
    /// Sequence numbers skip or repeat: an entry was removed or inserted.
    Gap { expected: i64, found: i64 },
}

impl AuditSealer {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// The seal of `facts` following `prev_seal`, as lowercase hex.
    pub fn seal(&self, prev_seal: &str, facts: &AuditFacts) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC accepts keys of any length")
        };
        // Length-prefixed fields, so that no two different entries encode the same bytes.
        let optional = facts.actor_account_id.as_deref().unwrap_or("\u{0}none");
        let fields: [&[u8]; 12] = [
            prev_seal.as_bytes(),
            facts.chain.as_bytes(),
            &facts.seq.to_be_bytes(),
            &facts.at_ms.to_be_bytes(),
            optional.as_bytes(),
            facts.actor_login.as_bytes(),
            facts.ip.as_bytes(),
            facts.action.as_bytes(),
            facts.object_type.as_bytes(),
            facts.object_id.as_bytes(),
            facts.outcome.as_bytes(),
            facts.detail.as_bytes(),
        ];
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        let bytes = mac.finalize().into_bytes();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks a whole chain, given in `seq` order with each entry's stored seal. Returns the
    /// first place where it is broken.
    pub fn verify<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a AuditFacts, &'a str)>,
    ) -> Result<u64, ChainBreak> {
        self.verify_from(0, GENESIS, entries)
    }

    /// Checks the entries that follow the entry `prev_seq` sealed `prev_seal` (a checkpoint), so
    /// that only what was written since has to be read.
    pub fn verify_from<'a>(
        &self,
        prev_seq: i64,
        prev_seal: &str,
        entries: impl IntoIterator<Item = (&'a AuditFacts, &'a str)>,
    ) -> Result<u64, ChainBreak> {
        let mut prev = prev_seal.to_string();
        let mut count = 0;
        for (expected, (facts, seal)) in (prev_seq + 1..).zip(entries) {
            if facts.seq != expected {
                return Err(ChainBreak::Gap { expected, found: facts.seq });
            }
            let computed = self.seal(&prev, facts);
            if !constant_time_eq(computed.as_bytes(), seal.as_bytes()) {
                return Err(ChainBreak::Altered { seq: facts.seq });
            }
            prev = computed;
            count += 1;
        }
        Ok(count)
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, action: &str) -> AuditFacts {
        AuditFacts {
            chain: "m1".into(),
            seq,
            at_ms: 1_700_000_000_000 + seq,
            actor_account_id: Some("a1".into()),
            actor_login: "admin01".into(),
            ip: "127.0.0.1".into(),
            action: action.into(),
            object_type: "facility".into(),
            object_id: "f1".into(),
            outcome: "ok".into(),
            detail: String::new(),
        }
    }

    fn sealed(sealer: &AuditSealer, n: i64) -> Vec<(AuditFacts, String)> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let e = entry(seq, "facility.create");
                prev = sealer.seal(&prev, &e);
                (e, prev.clone())
            })
            .collect()
    }

    fn verify(sealer: &AuditSealer, chain: &[(AuditFacts, String)]) -> Result<u64, ChainBreak> {
        sealer.verify(chain.iter().map(|(f, s)| (f, s.as_str())))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let s = AuditSealer::new(b"key");
        assert_eq!(verify(&s, &sealed(&s, 5)), Ok(5));
    }

    #[test]
    fn every_single_field_change_is_detected_at_its_entry() {
        let s = AuditSealer::new(b"key");
        let chain = sealed(&s, 4);
        let mutations: [fn(&mut AuditFacts); 9] = [
            |e| e.at_ms += 1,
            |e| e.actor_account_id = None,
            |e| e.actor_login.push('x'),
            |e| e.ip = "10.0.0.1".into(),
            |e| e.action = "facility.delete".into(),
            |e| e.object_type = "user".into(),
            |e| e.object_id = "f2".into(),
            |e| e.outcome = "denied".into(),
            |e| e.detail = "x".into(),
        ];
        for mutate in mutations {
            let mut c = chain.clone();
            mutate(&mut c[2].0);
            assert_eq!(verify(&s, &c), Err(ChainBreak::Altered { seq: 3 }));
        }
    }

    #[test]
    fn a_deleted_entry_is_a_gap() {
        let s = AuditSealer::new(b"key");
        let mut c = sealed(&s, 4);
        c.remove(1);
        assert_eq!(verify(&s, &c), Err(ChainBreak::Gap { expected: 2, found: 3 }));
    }

    #[test]
    fn the_rest_of_a_chain_verifies_from_a_checkpoint() {
        let s = AuditSealer::new(b"key");
        let c = sealed(&s, 5);
        let rest = || c[3..].iter().map(|(f, s)| (f, s.as_str()));
        assert_eq!(s.verify_from(3, &c[2].1, rest()), Ok(2));
        assert_eq!(s.verify_from(3, GENESIS, rest()), Err(ChainBreak::Altered { seq: 4 }));
        assert_eq!(s.verify_from(2, &c[2].1, rest()), Err(ChainBreak::Gap { expected: 3, found: 4 }));
    }

    #[test]
    fn a_chain_resealed_with_another_key_fails() {
        let s = AuditSealer::new(b"key");
        let forged = sealed(&AuditSealer::new(b"guess"), 2);
        assert_eq!(verify(&s, &forged), Err(ChainBreak::Altered { seq: 1 }));
    }
}
