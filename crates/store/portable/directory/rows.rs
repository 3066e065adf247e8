//! How the directory's rows become records, and a facility's fields become bound parameters.

use renraku_domain::directory::{
    AccountStatus, Email, FacilityNumber, KanaName, LoginId, MunicipalityCode, Name, Occupation, PhoneNumber,
    PostalCode, Profession, Role, ServiceCategory,
};
use renraku_domain::password::PasswordPolicy;
use renraku_store::*;

use crate::portable::{code, get, get_as, get_id, get_id_as, get_opt_id_as};
use crate::{Db, DbRow};

pub(crate) fn municipality_from(row: &DbRow) -> StoreResult<Municipality> {
    municipality_from_as(row, "")
}

pub(crate) fn municipality_from_as(row: &DbRow, p: &str) -> StoreResult<Municipality> {
    let max_age: Option<i64> = get_as(row, p, "pw_max_age_days")?;
    Ok(Municipality {
        id: get_id_as(row, p, "id")?,
        code: MunicipalityCode::from_trusted(get_as(row, p, "code")?),
        name: Name::from_trusted(get_as(row, p, "name")?),
        settings: MunicipalitySettings {
            password_policy: PasswordPolicy {
                min_length: u32::try_from(get_as::<i64>(row, p, "pw_min_length")?).unwrap_or(u32::MAX),
                max_age_days: max_age.and_then(|d| u32::try_from(d).ok()),
            },
            idle_timeout_secs: get_as(row, p, "idle_timeout_secs")?,
            absolute_timeout_secs: get_as(row, p, "absolute_timeout_secs")?,
            care_manager_may_invite: get_as(row, p, "care_manager_may_invite")?,
        },
        created_at_ms: get_as(row, p, "created_at_ms")?,
    })
}

pub(crate) const FACILITY_COLUMNS: &str = "f.id, f.municipality_id, f.corp_name, f.corp_kana, f.corp_representative, \
    f.corp_postal_code, f.corp_address, f.corp_phone, f.name, f.kana, f.postal_code, f.address, f.phone, \
    f.email, f.service_category, f.medical_institution_no, f.care_provider_no, f.administrator, \
    f.created_at_ms, f.updated_at_ms, \
    (SELECT COUNT(*) FROM accounts a WHERE a.facility_id = f.id AND a.is_manager = TRUE \
        AND a.status IN ('pending', 'active')) AS active_managers";

pub(crate) fn facility_from(row: &DbRow) -> StoreResult<Facility> {
    let opt_number = |c: &str| -> StoreResult<Option<FacilityNumber>> {
        Ok(get::<Option<String>>(row, c)?.map(FacilityNumber::from_trusted))
    };
    Ok(Facility {
        id: get_id(row, "id")?,
        municipality_id: get_id(row, "municipality_id")?,
        info: FacilityInfo {
            corporation: Corporation {
                name: Name::from_trusted(get(row, "corp_name")?),
                kana: KanaName::from_trusted(get(row, "corp_kana")?),
                representative: Name::from_trusted(get(row, "corp_representative")?),
                postal_code: PostalCode::from_trusted(get(row, "corp_postal_code")?),
                address: Name::from_trusted(get(row, "corp_address")?),
                phone: PhoneNumber::from_trusted(get(row, "corp_phone")?),
            },
            name: Name::from_trusted(get(row, "name")?),
            kana: KanaName::from_trusted(get(row, "kana")?),
            postal_code: PostalCode::from_trusted(get(row, "postal_code")?),
            address: Name::from_trusted(get(row, "address")?),
            phone: PhoneNumber::from_trusted(get(row, "phone")?),
            email: get::<Option<String>>(row, "email")?.map(Email::from_trusted),
            service_category: code(get(row, "service_category")?, ServiceCategory::from_code)?,
            medical_institution_no: opt_number("medical_institution_no")?,
            care_provider_no: opt_number("care_provider_no")?,
            administrator: Name::from_trusted(get(row, "administrator")?),
        },
        active_managers: get(row, "active_managers")?,
        created_at_ms: get(row, "created_at_ms")?,
        updated_at_ms: get(row, "updated_at_ms")?,
    })
}

pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.identity_id, i.login_id, a.municipality_id, a.facility_id, a.role, a.name, \
    a.kana, a.occupation, a.occupation_other, a.email, a.phone, a.is_manager, a.careplan, a.status, a.created_at_ms";

pub(crate) fn account_from(row: &DbRow) -> StoreResult<Account> {
    account_from_as(row, "")
}

pub(crate) fn account_from_as(row: &DbRow, p: &str) -> StoreResult<Account> {
    Ok(Account {
        id: get_id_as(row, p, "id")?,
        identity_id: get_id_as(row, p, "identity_id")?,
        login_id: LoginId::from_trusted(get_as(row, p, "login_id")?),
        municipality_id: get_opt_id_as(row, p, "municipality_id")?,
        facility_id: get_opt_id_as(row, p, "facility_id")?,
        role: code(get_as(row, p, "role")?, Role::from_code)?,
        profile: Profile {
            name: Name::from_trusted(get_as(row, p, "name")?),
            kana: KanaName::from_trusted(get_as(row, p, "kana")?),
            profession: Profession {
                occupation: code(get_as(row, p, "occupation")?, Occupation::from_code)?,
                other: get_as(row, p, "occupation_other")?,
            },
            email: get_as::<Option<String>>(row, p, "email")?.map(Email::from_trusted),
            phone: get_as::<Option<String>>(row, p, "phone")?.map(PhoneNumber::from_trusted),
        },
        is_manager: get_as(row, p, "is_manager")?,
        careplan: get_as(row, p, "careplan")?,
        status: code(get_as(row, p, "status")?, AccountStatus::from_code)?,
        created_at_ms: get_as(row, p, "created_at_ms")?,
    })
}

pub(crate) fn identity_from(row: &DbRow) -> StoreResult<Identity> {
    identity_from_as(row, "")
}

pub(crate) fn identity_from_as(row: &DbRow, p: &str) -> StoreResult<Identity> {
    Ok(Identity {
        id: get_id_as(row, p, "id")?,
        login_id: LoginId::from_trusted(get_as(row, p, "login_id")?),
        password_hash: get_as(row, p, "password_hash")?,
        password_changed_at_ms: get_as(row, p, "password_changed_at_ms")?,
        totp_secret: get_as(row, p, "totp_secret")?,
        created_at_ms: get_as(row, p, "created_at_ms")?,
    })
}

pub(crate) fn bind_facility<'q>(
    query: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    f: &'q FacilityInfo,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    query
        .bind(f.corporation.name.as_str())
        .bind(f.corporation.kana.as_str())
        .bind(f.corporation.representative.as_str())
        .bind(f.corporation.postal_code.as_str())
        .bind(f.corporation.address.as_str())
        .bind(f.corporation.phone.as_str())
        .bind(f.name.as_str())
        .bind(f.kana.as_str())
        .bind(f.postal_code.as_str())
        .bind(f.address.as_str())
        .bind(f.phone.as_str())
        .bind(f.email.as_ref().map(Email::as_str))
        .bind(f.service_category.code())
        .bind(f.medical_institution_no.as_ref().map(FacilityNumber::as_str))
        .bind(f.care_provider_no.as_ref().map(FacilityNumber::as_str))
        .bind(f.administrator.as_str())
}
