//! Checkpoints of the audit trail kept outside the database (G1). A seal proves an entry was not
//! altered, but not that the chain still has all its entries: whoever can write the database can
//! cut a chain's tail and move its head row back. A checkpoint records, for every chain, how far
//! it reached and the seal it had there, signed with a key derived from the master secret, as
//! text lines appended to a file the database cannot reach (and that an operator can print and
//! keep elsewhere). A later verification that finds a chain shorter than its checkpoint, or with
//! another seal at the checkpoint's place, knows entries were removed.
//!
//! One checkpoint is one line per chain, then one line that closes it and counts its chains:
//!
//! ```text
//! renraku-audit-anchor v1 at=1764628200123 chain=operator seq=12 seal=… mac=…
//! renraku-audit-anchor v1 at=1764628200123 chains=1 mac=…
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::audit::constant_time_eq;

const PREFIX: &str = "renraku-audit-anchor v1";

/// How far one chain reached at a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainMark {
    pub chain: String,
    pub seq: i64,
    pub seal: String,
}

/// Every chain at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub at_ms: i64,
    /// One mark per chain, ordered by chain: together, the set of chains that existed.
    pub marks: Vec<ChainMark>,
}

impl Checkpoint {
    pub fn mark(&self, chain: &str) -> Option<&ChainMark> {
        self.marks.iter().find(|m| m.chain == chain)
    }
}

/// What is wrong with a line of the checkpoint file (line numbers count from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorProblem {
    /// The line's signature does not match its content: it was written or altered by someone
    /// without the master secret.
    BadSignature { line: usize },
    /// Not a checkpoint line at all.
    Malformed { line: usize },
    /// Chain lines that no closing line confirms, or a closing line whose chain lines are not all
    /// there: a checkpoint was cut or lines were removed.
    Incomplete { line: usize },
    /// A complete, validly signed checkpoint older than one before it in the file (its time, or
    /// the place of one of its chains, goes backwards): a copy of an old checkpoint appended to
    /// pass off a shortened chain. It is never taken as the latest.
    GoesBack { line: usize },
}

/// The checkpoint file as read: its latest complete checkpoint, and whatever is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnchorReading {
    /// The checkpoint with the greatest time, with, for every chain any checkpoint anchored, the
    /// furthest place anchored (never a place an older checkpoint went past).
    pub latest: Option<Checkpoint>,
    /// How many complete checkpoints the file holds.
    pub checkpoints: usize,
    pub problems: Vec<AnchorProblem>,
}

/// Signs and reads checkpoints. Holds the anchor key (not the audit seal key: a checkpoint line
/// can never pass for an audit seal).
#[derive(Clone)]
pub struct AnchorSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for AnchorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnchorSigner(<redacted>)")
    }
}

impl AnchorSigner {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, fields: &[&[u8]]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC accepts keys of any length")
        };
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Tells keys apart without showing them (a process that caches what it read of a file
    /// under one key does not reuse it under another).
    pub fn fingerprint(&self) -> String {
        self.mac(&[b"fingerprint"])
    }

    fn chain_mac(&self, at_ms: i64, m: &ChainMark) -> String {
        self.mac(&[
            b"chain",
            &at_ms.to_be_bytes(),
            m.chain.as_bytes(),
            &m.seq.to_be_bytes(),
            m.seal.as_bytes(),
        ])
    }

    fn close_mac(&self, at_ms: i64, chains: &[&str]) -> String {
        let mut fields: Vec<&[u8]> = vec![b"chains"];
        let at = at_ms.to_be_bytes();
        let count = (chains.len() as u64).to_be_bytes();
        fields.push(&at);
        fields.push(&count);
        fields.extend(chains.iter().map(|c| c.as_bytes()));
        self.mac(&fields)
    }

    /// The lines of `checkpoint`, each ending in a newline, ready to be appended.
    pub fn lines(&self, checkpoint: &Checkpoint) -> String {
        let at = checkpoint.at_ms;
        let mut out = String::new();
        for m in &checkpoint.marks {
            out.push_str(&format!(
                "{PREFIX} at={at} chain={} seq={} seal={} mac={}\n",
                m.chain,
                m.seq,
                m.seal,
                self.chain_mac(at, m)
            ));
        }
        let names: Vec<&str> = checkpoint.marks.iter().map(|m| m.chain.as_str()).collect();
        out.push_str(&format!(
            "{PREFIX} at={at} chains={} mac={}\n",
            names.len(),
            self.close_mac(at, &names)
        ));
        out
    }

    /// Reads a checkpoint file. Blank lines and lines starting with `#` are the operator's notes.
    pub fn read(&self, text: &str) -> AnchorReading {
        let mut reader = AnchorReader::default();
        reader.feed(self, text);
        reader.reading()
    }
}

/// Reads a checkpoint file piece by piece, so that a process that keeps it can read only what
/// was appended since (whole lines only).
#[derive(Debug, Clone, Default)]
pub struct AnchorReader {
    reading: AnchorReading,
    /// Chain lines since the last closing line, with their line numbers.
    open: Vec<(usize, i64, ChainMark)>,
    spoilt: bool,
    lines: usize,
    /// The greatest time and, per chain, the furthest mark of the checkpoints taken so far.
    highest_at: Option<i64>,
    highest: std::collections::BTreeMap<String, ChainMark>,
}

impl AnchorReader {
    /// Reads the next lines of the file (a partial last line is read as a whole one).
    pub fn feed(&mut self, signer: &AnchorSigner, text: &str) {
        for raw in text.lines() {
            self.lines += 1;
            let line = self.lines;
            let raw = raw.trim();
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            match parse(raw) {
                Some(Line::Chain { at_ms, mark, mac }) => {
                    if !constant_time_eq(signer.chain_mac(at_ms, &mark).as_bytes(), mac.as_bytes()) {
                        self.reading.problems.push(AnchorProblem::BadSignature { line });
                        self.spoilt = true;
                    }
                    self.open.push((line, at_ms, mark));
                }
                Some(Line::Close { at_ms, count, mac }) => {
                    let names: Vec<&str> = self.open.iter().map(|(_, _, m)| m.chain.as_str()).collect();
                    let complete =
                        self.open.len() as u64 == count && self.open.iter().all(|(_, at, _)| *at == at_ms);
                    if !complete
                        || !constant_time_eq(signer.close_mac(at_ms, &names).as_bytes(), mac.as_bytes())
                    {
                        // A closing line signed over other chain lines than those before it.
                        if complete {
                            self.reading.problems.push(AnchorProblem::BadSignature { line });
                        } else {
                            self.reading.problems.push(AnchorProblem::Incomplete { line });
                        }
                    } else if !self.spoilt {
                        let first = self.open.first().map_or(line, |(l, _, _)| *l);
                        self.take(first, at_ms);
                    }
                    self.open.clear();
                    self.spoilt = false;
                }
                None => self.reading.problems.push(AnchorProblem::Malformed { line }),
            }
        }
    }

    /// Takes the complete checkpoint now open, unless it goes back on an earlier one.
    fn take(&mut self, first_line: usize, at_ms: i64) {
        let back_in_time = self.highest_at.is_some_and(|h| at_ms < h);
        let back_in_place =
            self.open.iter().any(|(_, _, m)| self.highest.get(&m.chain).is_some_and(|h| m.seq < h.seq));
        if back_in_time || back_in_place {
            self.reading.problems.push(AnchorProblem::GoesBack { line: first_line });
            return;
        }
        self.highest_at = Some(at_ms);
        for (_, _, m) in &self.open {
            self.highest.insert(m.chain.clone(), m.clone());
        }
        self.reading.latest = Some(Checkpoint { at_ms, marks: self.highest.values().cloned().collect() });
        self.reading.checkpoints += 1;
    }

    /// The file as read so far (chain lines no closing line confirms yet count as cut).
    pub fn reading(&self) -> AnchorReading {
        let mut reading = self.reading.clone();
        if let Some((line, _, _)) = self.open.first() {
            reading.problems.push(AnchorProblem::Incomplete { line: *line });
        }
        reading
    }
}

enum Line {
    Chain { at_ms: i64, mark: ChainMark, mac: String },
    Close { at_ms: i64, count: u64, mac: String },
}

fn parse(line: &str) -> Option<Line> {
    let rest = line.strip_prefix(PREFIX)?;
    let mut at_ms = None;
    let mut chain = None;
    let mut seq = None;
    let mut seal = None;
    let mut count = None;
    let mut mac = None;
    for part in rest.split_whitespace() {
        let (key, value) = part.split_once('=')?;
        match key {
            "at" => at_ms = Some(value.parse().ok()?),
            "chain" => chain = Some(value.to_string()),
            "seq" => seq = Some(value.parse().ok()?),
            "seal" => seal = Some(value.to_string()),
            "chains" => count = Some(value.parse().ok()?),
            "mac" => mac = Some(value.to_string()),
            _ => return None,
        }
    }
    match (at_ms?, chain, seq, seal, count, mac?) {
        (at_ms, Some(chain), Some(seq), Some(seal), None, mac) => {
            Some(Line::Chain { at_ms, mark: ChainMark { chain, seq, seal }, mac })
        }
        (at_ms, None, None, None, Some(count), mac) => Some(Line::Close { at_ms, count, mac }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(at_ms: i64, seqs: &[(&str, i64)]) -> Checkpoint {
        Checkpoint {
            at_ms,
            marks: seqs
                .iter()
                .map(|(chain, seq)| ChainMark {
                    chain: chain.to_string(),
                    seq: *seq,
                    seal: format!("{seq:064x}"),
                })
                .collect(),
        }
    }

    #[test]
    fn the_latest_checkpoint_is_read_back() {
        let s = AnchorSigner::new(b"key");
        let first = checkpoint(1, &[("m1", 3), ("operator", 1)]);
        let second = checkpoint(2, &[("m1", 5), ("m2", 1), ("operator", 2)]);
        let text = format!("# kept by the operator\n{}\n{}", s.lines(&first), s.lines(&second));
        let reading = s.read(&text);
        assert_eq!(reading.problems, vec![]);
        assert_eq!(reading.checkpoints, 2);
        assert_eq!(reading.latest, Some(second));
    }

    #[test]
    fn an_altered_line_fails_its_signature_and_the_previous_checkpoint_stands() {
        let s = AnchorSigner::new(b"key");
        let first = checkpoint(1, &[("m1", 3)]);
        let second = s.lines(&checkpoint(2, &[("m1", 5)])).replace("seq=5", "seq=4");
        let reading = s.read(&format!("{}{second}", s.lines(&first)));
        assert_eq!(reading.problems, vec![AnchorProblem::BadSignature { line: 3 }]);
        assert_eq!(reading.latest, Some(first));
    }

    #[test]
    fn a_removed_chain_line_or_a_cut_checkpoint_is_incomplete() {
        let s = AnchorSigner::new(b"key");
        let text = s.lines(&checkpoint(1, &[("m1", 3), ("m2", 1)]));
        let without_m2: String =
            text.lines().filter(|l| !l.contains("chain=m2")).map(|l| format!("{l}\n")).collect();
        assert_eq!(s.read(&without_m2).problems, vec![AnchorProblem::Incomplete { line: 2 }]);
        let cut: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        let reading = s.read(&cut);
        assert_eq!(reading.problems, vec![AnchorProblem::Incomplete { line: 1 }]);
        assert_eq!(reading.latest, None);
    }

    #[test]
    fn an_older_checkpoint_appended_again_goes_back_and_is_not_taken() {
        let s = AnchorSigner::new(b"key");
        let first = checkpoint(1, &[("m1", 3), ("operator", 1)]);
        let second = checkpoint(2, &[("m1", 5), ("operator", 2)]);
        let text = format!("{}{}{}", s.lines(&first), s.lines(&second), s.lines(&first));
        let reading = s.read(&text);
        assert_eq!(reading.problems, vec![AnchorProblem::GoesBack { line: 7 }]);
        assert_eq!(reading.latest, Some(second.clone()));
        // A later time does not excuse a chain that went back.
        let rewound = checkpoint(3, &[("m1", 4), ("operator", 2)]);
        let reading = s.read(&format!("{}{}", s.lines(&second), s.lines(&rewound)));
        assert_eq!(reading.problems, vec![AnchorProblem::GoesBack { line: 4 }]);
        assert_eq!(reading.latest, Some(second));
    }

    #[test]
    fn read_in_pieces_as_in_one() {
        let s = AnchorSigner::new(b"key");
        let a = s.lines(&checkpoint(1, &[("m1", 3)]));
        let b = s.lines(&checkpoint(2, &[("m1", 4), ("m2", 1)]));
        let mut reader = AnchorReader::default();
        reader.feed(&s, &a);
        reader.feed(&s, &b);
        reader.feed(&s, &a);
        assert_eq!(reader.reading(), s.read(&format!("{a}{b}{a}")));
    }

    #[test]
    fn a_checkpoint_signed_with_another_key_is_refused() {
        let forged = AnchorSigner::new(b"guess").lines(&checkpoint(1, &[("m1", 1)]));
        let reading = AnchorSigner::new(b"key").read(&forged);
        assert_eq!(reading.latest, None);
        assert_eq!(
            reading.problems,
            vec![AnchorProblem::BadSignature { line: 1 }, AnchorProblem::BadSignature { line: 2 }]
        );
        assert_eq!(
            AnchorSigner::new(b"key").read("hello\n").problems,
            vec![AnchorProblem::Malformed { line: 1 }]
        );
    }
}
