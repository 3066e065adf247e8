//! Care-plan data exchange (F1–F4): transmission sets sent from one facility to another, the
//! original files byte for byte, and the people they are about.

use async_trait::async_trait;
use renraku_domain::ids::{AccountId, CareplanSetId, FacilityId, PatientId};

use crate::*;

/// Care-plan sets. Sets cross municipalities: the sender and the receiver are facilities
/// anywhere on the server; every query is scoped to one of the two.
#[async_trait]
pub trait CareplanStore: Send + Sync + 'static {
    /// The facilities registered with this 介護事業所番号, at most two: the exchange routes only
    /// to a number that exactly one facility on the server holds.
    async fn facilities_by_care_provider_no(&self, care_provider_no: &str) -> StoreResult<Vec<Facility>>;
    /// Stores the sets of one upload (not yet sent), matching their subjects to patients, each
    /// with its audit entry (its `object_id` is the new set's id): all of them in one
    /// transaction, or none (`Taken` when one is there already, by stamp, sender, receiver and
    /// kind). Their ids, in order.
    async fn create_careplan_sets(
        &self,
        sets: &[(NewCareplanSet, AuditDraft)],
    ) -> StoreResult<Vec<CareplanSetId>>;
    /// The sets a facility sent or drafted, and those sent to it; newest stamp first.
    async fn careplan_sets(&self, facility_id: &FacilityId) -> StoreResult<Vec<CareplanSetSummary>>;
    /// Sets sent to this facility and not yet acknowledged (nor withdrawn): the menu's count.
    async fn careplan_waiting_count(&self, facility_id: &FacilityId) -> StoreResult<u64>;
    /// One set as `facility_id` may see it: its sender always, its receiver once it is sent.
    async fn careplan_set(&self, facility_id: &FacilityId, id: &CareplanSetId) -> StoreResult<CareplanSet>;
    /// Sends a drafted set (sender only). A deletion set withdraws the earlier sets of the same
    /// sender, receiver and subjects (第1表 with its 第2・3表; 第6表 with its 第7表; 実績).
    async fn send_careplan_set(
        &self,
        facility_id: &FacilityId,
        id: &CareplanSetId,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Acknowledges receipt (receiver only, once sent; the first acknowledgement stays).
    async fn acknowledge_careplan_set(
        &self,
        facility_id: &FacilityId,
        id: &CareplanSetId,
        account_id: &AccountId,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
}

/// One file of a set, exactly as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareplanFileData {
    pub name: String,
    /// The file kind's prefix (`UP1KYO` …).
    pub kind: String,
    pub bytes: Vec<u8>,
}

/// The name stored for a person whose files name no one (実績 carries no 利用者氏名).
pub const NO_NAME: &str = "（氏名なし）";

impl CareplanSubject {
    /// The name to show: the files', or where they name no one, the linked patient's.
    pub fn shown_name(&self) -> &str {
        match &self.patient_name {
            Some(name) if self.name == NO_NAME || self.name.is_empty() => name,
            _ => &self.name,
        }
    }
}

/// A person (利用者) a set is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareplanSubject {
    pub insurer_no: String,
    pub insured_no: String,
    /// What ties the person's records in the set together, and what a deletion names:
    /// 居宅サービス計画作成（変更）日 for plans, 対象年月 for 第6・7表, and for 実績 the 対象年月,
    /// サービス事業者コード and サービス種類コード separated by spaces (「削除はサービス種類毎に行う」).
    pub record_key: String,
    pub name: String,
    /// The patient with the same 保険者番号 and 被保険者番号 in the sender's or the receiver's
    /// municipality, when there is one (filled in by the store).
    pub patient_id: Option<PatientId>,
    /// That patient's name as recorded (filled in by the store): 実績 files carry no name.
    pub patient_name: Option<String>,
    /// The deletion set that withdrew these records (filled in by the store). The set is
    /// withdrawn as a whole when every one of its subjects is.
    pub withdrawn_by: Option<CareplanSetId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCareplanSet {
    /// The set kind's code: `plan`, `provision`, `plan_deletion`, `provision_deletion`,
    /// `actual`, `actual_deletion`; 介護予防 `kihon`, `yobo_kihon`, `yobo`, `kihon_deletion`,
    /// `yobo_deletion`.
    pub kind: String,
    pub stamp: String,
    pub month: Option<String>,
    pub sender_facility_id: FacilityId,
    pub receiver_facility_id: FacilityId,
    /// 事業所番号 and サービス種類コード as the file names give them, e.g. `0300000100-43`.
    pub sender_office: String,
    pub receiver_office: String,
    pub uploaded_by: AccountId,
    pub uploaded_at_ms: i64,
    pub files: Vec<CareplanFileData>,
    pub subjects: Vec<CareplanSubject>,
}

/// A set as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareplanSetSummary {
    pub id: CareplanSetId,
    pub kind: String,
    pub stamp: String,
    pub month: Option<String>,
    pub sender_facility_id: FacilityId,
    pub sender_facility_name: String,
    pub receiver_facility_id: FacilityId,
    pub receiver_facility_name: String,
    pub sender_office: String,
    pub receiver_office: String,
    pub uploaded_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub acknowledged_at_ms: Option<i64>,
    pub acknowledged_by_name: Option<String>,
    /// The deletion set that withdrew this one.
    pub withdrawn_by: Option<CareplanSetId>,
    pub subjects: Vec<CareplanSubject>,
}

/// A set with its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareplanSet {
    pub summary: CareplanSetSummary,
    pub files: Vec<CareplanFileData>,
}
