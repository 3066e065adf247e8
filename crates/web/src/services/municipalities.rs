//! The operator's corrections to a municipality (A1).

use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::Name;
use renraku_domain::ids::MunicipalityId;

use super::ServiceError;
use crate::AppState;
use crate::auth::{Auth, RequestMeta};

/// Corrects the municipality's name; the entry joins the municipality's own chain, so its
/// admins see who changed it and when.
pub async fn rename(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    id: &MunicipalityId,
    name: &Name,
) -> Result<(), ServiceError> {
    let now = state.clock.now_ms();
    let mut audit = auth.audit(meta, now, AuditAction::MunicipalityRename, "municipality", id.as_str());
    audit.municipality_id = Some(id.clone());
    audit.detail = "name".into();
    state.store.rename_municipality(id, name, &audit).await.map_err(|e| match e {
        renraku_store::StoreError::NotFound => ServiceError::NotFound("市区町村"),
        e => e.into(),
    })
}
