//! Reading the directory's forms (様式1: facility and users) into domain values, shared by the
//! admin screens and the command line so both apply the same rules and messages.

use renraku_domain::FieldError;
use renraku_domain::directory::{
    Email, FacilityNumber, KanaName, Name, PhoneNumber, PostalCode, Profession, ServiceCategory,
};
use renraku_store::{Corporation, FacilityInfo, Profile};

use crate::forms::{Form, FormState};

/// Parses 様式1's facility part; every error goes next to its field.
pub fn parse_facility(form: &Form) -> Result<FacilityInfo, FormState> {
    let mut echo = form.echo();
    let optional_number = |echo: &mut FormState, field: &'static str| match form.get(field).trim() {
        "" => Some(None),
        v => echo.take(FacilityNumber::parse(field, v)).map(Some),
    };
    let corporation = (
        echo.take(Name::parse("corp_name", form.get("corp_name"))),
        echo.take(KanaName::parse("corp_kana", form.get("corp_kana"))),
        echo.take(Name::parse("corp_representative", form.get("corp_representative"))),
        echo.take(PostalCode::parse("corp_postal_code", form.get("corp_postal_code"))),
        echo.take(Name::parse("corp_address", form.get("corp_address"))),
        echo.take(PhoneNumber::parse("corp_phone", form.get("corp_phone"))),
    );
    let name = echo.take(Name::parse("name", form.get("name")));
    let kana = echo.take(KanaName::parse("kana", form.get("kana")));
    let postal_code = echo.take(PostalCode::parse("postal_code", form.get("postal_code")));
    let address = echo.take(Name::parse("address", form.get("address")));
    let phone = echo.take(PhoneNumber::parse("phone", form.get("phone")));
    let email = match form.get("email").trim() {
        "" => Some(None),
        v => echo.take(Email::parse("email", v)).map(Some),
    };
    let category = echo.take(ServiceCategory::parse("service_category", form.get("service_category")));
    let medical = optional_number(&mut echo, "medical_institution_no");
    let care = optional_number(&mut echo, "care_provider_no");
    let administrator = echo.take(Name::parse("administrator", form.get("administrator")));
    // Medical institutions and care providers all have a number; only the municipality's own
    // offices and "other" may have none.
    if let (Some(c), Some(None), Some(None)) = (category, &medical, &care)
        && !matches!(
            c,
            ServiceCategory::Government | ServiceCategory::Other | ServiceCategory::CommunityCenter
        )
    {
        echo.error(FieldError::new(
            "medical_institution_no",
            "医療機関番号または介護事業所番号のどちらかを入力してください。",
        ));
    }
    match (
        corporation,
        name,
        kana,
        postal_code,
        address,
        phone,
        email,
        category,
        medical,
        care,
        administrator,
    ) {
        (
            (Some(cn), Some(ck), Some(cr), Some(cp), Some(ca), Some(ct)),
            Some(name),
            Some(kana),
            Some(postal_code),
            Some(address),
            Some(phone),
            Some(email),
            Some(service_category),
            Some(medical_institution_no),
            Some(care_provider_no),
            Some(administrator),
        ) if !echo.has_errors() => Ok(FacilityInfo {
            corporation: Corporation {
                name: cn,
                kana: ck,
                representative: cr,
                postal_code: cp,
                address: ca,
                phone: ct,
            },
            name,
            kana,
            postal_code,
            address,
            phone,
            email,
            service_category,
            medical_institution_no,
            care_provider_no,
            administrator,
        }),
        _ => Err(echo),
    }
}

/// Reads the fields every person record has. Errors go to `echo`.
pub fn parse_person(
    form: &Form,
    echo: &mut FormState,
) -> Option<(Name, KanaName, Option<Email>, Option<PhoneNumber>)> {
    let name = echo.take(Name::parse("name", form.get("name")));
    let kana = echo.take(KanaName::parse("kana", form.get("kana")));
    let email = match form.get("email").trim() {
        "" => Some(None),
        e => echo.take(Email::parse("email", e)).map(Some),
    };
    let phone = match form.get("phone").trim() {
        "" => Some(None),
        p => echo.take(PhoneNumber::parse("phone", p)).map(Some),
    };
    Some((name?, kana?, email?, phone?))
}

/// A member's profile and flags as the user form gives them.
pub struct MemberFields {
    pub profile: Profile,
    pub is_manager: bool,
    pub careplan: bool,
}

/// Reads the user form (without the login ID). Errors go to `echo`.
pub fn parse_member(form: &Form, echo: &mut FormState) -> Option<MemberFields> {
    let person = parse_person(form, echo);
    let profession = echo.take(Profession::parse(
        "occupation",
        "occupation_other",
        form.get("occupation"),
        form.get("occupation_other"),
    ));
    let (name, kana, email, phone) = person?;
    Some(MemberFields {
        profile: Profile { name, kana, profession: profession?, email, phone },
        is_manager: form.checked("is_manager"),
        careplan: form.checked("careplan"),
    })
}

/// Shown next to the 介護事業所番号 by the admin form and by `renraku facility create` when the
/// store refuses the number because another facility holds it.
pub const CARE_PROVIDER_NO_HELD: &str = "この介護事業所番号は Renraku の別の事業所（他の市区町村を含む）に登録されています。\
    番号に誤りがなければ、サーバーの運用者に登録の確認を依頼してください。";
