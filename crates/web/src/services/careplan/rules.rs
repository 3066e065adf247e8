//! The care-plan exchange's rules that need nothing but their arguments: who may send a set,
//! where it goes, what it is about. Unit-tested here; the upload workflow calls them.

use renraku_careplan::file::{CareplanFile, Record};
use renraku_careplan::layout::Kind;
use renraku_domain::ids::FacilityId;
use renraku_store::{CareplanSetSummary, CareplanSubject, NO_NAME};

/// The sender must be this facility, and this facility alone: the exchange routes by
/// 介護事業所番号, so the sender's number in the file names must be the facility's own
/// (`my_office`, empty when it has none) and held by no other facility here (`mine_alone`).
/// The problem to show, if any.
pub fn sender_problem(sender_number: &str, my_office: &str, mine_alone: bool) -> Option<String> {
    if sender_number != my_office {
        Some(format!(
            "送信元の事業所番号 {sender_number} がこの事業所（{}）の介護事業所番号と違います",
            if my_office.is_empty() { "未登録" } else { my_office }
        ))
    } else if !mine_alone {
        Some(format!(
            "介護事業所番号 {my_office} は Renraku の複数の事業所に登録されています。市区町村の担当課に確認してください"
        ))
    } else {
        None
    }
}

/// A set goes to the one facility registered under its receiver's 介護事業所番号 (`registered`,
/// the facilities holding `receiver_number`): none, or more than one, and it cannot be routed.
pub fn route<'a, F>(receiver_number: &str, registered: &'a [F]) -> Result<&'a F, String> {
    match registered {
        [receiver] => Ok(receiver),
        [] => Err(format!("送信先の事業所番号 {receiver_number} の事業所は Renraku に登録されていません")),
        _ => Err(format!(
            "送信先の事業所番号 {receiver_number} は Renraku の複数の事業所に登録されているため、送信先を決められません。市区町村の担当課に確認してください"
        )),
    }
}

/// Whether a set of this stamp and kind to this receiver is among the facility's sets already.
pub fn uploaded_already(
    existing: &[CareplanSetSummary],
    stamp: &str,
    kind: &str,
    receiver_id: &FacilityId,
) -> bool {
    existing.iter().any(|e| e.stamp == stamp && e.kind == kind && e.receiver_facility_id == *receiver_id)
}

/// The key item that ties a person's records together in each kind: 介護予防 (仕様 3.3) keys
/// 利用者基本情報 by 相談日 and the 介護予防サービス・支援計画書 by 計画作成(変更)日, and so do their
/// deletions (a set of both is keyed by its plan, its main file).
const KEY_ITEMS: [&str; 5] =
    ["居宅サービス計画作成（変更）日", "対象年月", "削除対象年月", "相談日", "計画作成(変更)日"];

/// What a record is about besides its person, as deletions match it: the plan date or month,
/// and for 実績 also サービス事業者コード and サービス種類コード (仕様 3.3: 「実績情報　削除」 is keyed
/// by 削除対象年月, サービス事業者コード and サービス種類コード — 「削除はサービス種類毎に行う」), so a
/// 福祉用具 deletion never withdraws the same office's 訪問介護 実績.
fn record_key(record: &Record<'_>) -> String {
    let key = KEY_ITEMS.iter().find_map(|k| record.get(k)).unwrap_or_default();
    let service_type = match record.kind {
        Kind::Upjsk => record.get("サービスコード").and_then(|c| c.get(..2)),
        Kind::Dltjsk => record.get("サービス種類コード"),
        _ => return key.to_string(),
    };
    let office = record.get("サービス事業者コード").unwrap_or_default();
    format!("{key} {office} {}", service_type.unwrap_or_default())
}

/// Each person once (a 実績 set has a subject per service type), in order of first appearance.
pub fn people(subjects: &[CareplanSubject]) -> Vec<&CareplanSubject> {
    let mut out: Vec<&CareplanSubject> = Vec::new();
    for subject in subjects {
        if !out.iter().any(|s| (&s.insurer_no, &s.insured_no) == (&subject.insurer_no, &subject.insured_no)) {
            out.push(subject);
        }
    }
    out
}

/// The people a set is about, from its main file; names from its 利用者補足情報 where the main
/// file carries none (第1表 does not).
pub fn subjects(file: &CareplanFile, supplement: Option<&CareplanFile>) -> Vec<CareplanSubject> {
    let name_in_supplement = |insurer: &str, insured: &str| {
        supplement?.records().find_map(|r| {
            (r.get("保険者番号") == Some(insurer) && r.get("被保険者番号") == Some(insured))
                .then(|| r.get("利用者氏名"))
                .flatten()
        })
    };
    let mut out: Vec<CareplanSubject> = Vec::new();
    for record in file.records() {
        let insurer = record.get("保険者番号").unwrap_or_default();
        let insured = record.get("被保険者番号").unwrap_or_default();
        let key = record_key(&record);
        // A person has many rows (one per service day on 第6表): look the name up once.
        if out.iter().any(|s| {
            (s.insurer_no.as_str(), s.insured_no.as_str(), s.record_key.as_str()) == (insurer, insured, &key)
        }) {
            continue;
        }
        out.push(CareplanSubject {
            insurer_no: insurer.to_string(),
            insured_no: insured.to_string(),
            record_key: key,
            // 介護予防サービス・支援計画書 calls it 利用者名.
            name: record
                .get("利用者氏名")
                .or_else(|| record.get("利用者名"))
                .or_else(|| name_in_supplement(insurer, insured))
                .filter(|n| !n.is_empty())
                .unwrap_or(NO_NAME)
                .to_string(),
            patient_id: None,
            patient_name: None,
            withdrawn_by: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use renraku_domain::ids::CareplanSetId;

    use super::*;

    #[test]
    fn the_sender_is_this_facility_alone() {
        assert_eq!(sender_problem("1234567890", "1234567890", true), None);
        let other = sender_problem("1234567890", "2234567890", true).unwrap_or_default();
        assert!(other.contains("1234567890") && other.contains("（2234567890）"), "{other}");
        let none = sender_problem("1234567890", "", true).unwrap_or_default();
        assert!(none.contains("（未登録）"), "{none}");
        let shared = sender_problem("1234567890", "1234567890", false).unwrap_or_default();
        assert!(shared.contains("複数の事業所"), "{shared}");
        // An office that is not its own is named first, shared or not.
        assert!(sender_problem("1", "2", false).is_some_and(|p| p.contains("違います")));
    }

    #[test]
    fn a_set_is_routed_to_the_one_facility_with_its_number() {
        assert_eq!(route("2234567890", &["kashiwa"]), Ok(&"kashiwa"));
        let nobody = route::<&str>("2234567890", &[]).unwrap_err();
        assert!(nobody.contains("2234567890") && nobody.contains("登録されていません"), "{nobody}");
        let two = route("2234567890", &["a", "b"]).unwrap_err();
        assert!(two.contains("送信先を決められません"), "{two}");
    }

    fn summary(stamp: &str, kind: &str, receiver: &str) -> CareplanSetSummary {
        CareplanSetSummary {
            id: CareplanSetId::from_stored("s1".into()),
            kind: kind.into(),
            stamp: stamp.into(),
            month: None,
            sender_facility_id: FacilityId::from_stored("me".into()),
            sender_facility_name: String::new(),
            receiver_facility_id: FacilityId::from_stored(receiver.into()),
            receiver_facility_name: String::new(),
            sender_office: String::new(),
            receiver_office: String::new(),
            uploaded_at_ms: 0,
            sent_at_ms: None,
            acknowledged_at_ms: None,
            acknowledged_by_name: None,
            withdrawn_by: None,
            subjects: vec![],
        }
    }

    #[test]
    fn a_set_is_uploaded_already_by_stamp_kind_and_receiver() {
        let existing = [summary("20261101090000", "plan", "r1")];
        let (r1, r2) = (FacilityId::from_stored("r1".into()), FacilityId::from_stored("r2".into()));
        assert!(uploaded_already(&existing, "20261101090000", "plan", &r1));
        assert!(!uploaded_already(&existing, "20261101090001", "plan", &r1));
        assert!(!uploaded_already(&existing, "20261101090000", "provision", &r1));
        assert!(!uploaded_already(&existing, "20261101090000", "plan", &r2));
    }

    #[test]
    fn people_are_counted_once() {
        let subject = |insured: &str, key: &str| CareplanSubject {
            insurer_no: "122203".into(),
            insured_no: insured.into(),
            record_key: key.into(),
            name: String::new(),
            patient_id: None,
            patient_name: None,
            withdrawn_by: None,
        };
        let subjects = [subject("1", "a 11"), subject("1", "a 17"), subject("2", "a 11")];
        let people = people(&subjects);
        assert_eq!(people.iter().map(|s| s.insured_no.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }
}
