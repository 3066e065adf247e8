//! Issue 12, item 4: what people type is kept as typed (「①号室」, ㈱, （）and －/ー in phone
//! numbers); NFKC is only used to validate. And 団体コード carry their check digit.

use crate::both;
use crate::helpers::*;

both!(
    a_facility_and_a_patient_come_back_exactly_as_typed,
    validation_still_refuses_what_it_refused,
    a_municipality_code_with_a_wrong_check_digit_is_refused,
    the_operator_corrects_a_municipality_name_audited,
);

const FACILITY_NAME: &str = "㈱さくら訪問看護ステーション（本店）";
const FACILITY_PHONE: &str = "（０４）７１５８－２２２２";
const CORP_PHONE: &str = "04ー7158ー1111";
const FACILITY_KANA: &str = "ｻｸﾗﾎｳﾓﾝｶﾝｺﾞｽﾃｰｼｮﾝ";

fn facility(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut fields: Vec<(&str, &str)> = crate::admin::FACILITY.to_vec();
    for (k, v) in [
        ("name", FACILITY_NAME),
        ("phone", FACILITY_PHONE),
        ("corp_phone", CORP_PHONE),
        ("kana", FACILITY_KANA),
    ]
    .iter()
    .chain(changes)
    {
        fields.iter_mut().filter(|(f, _)| f == k).for_each(|(_, value)| *value = v);
    }
    fields
}

fn patient(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut fields: Vec<(&str, &str)> = crate::rooms::PATIENT.to_vec();
    for (k, v) in [
        ("address", "千葉県流山市平和台３－３－３　①号室"),
        ("phone", "（０９０）１２３４ー５６７８"),
        ("contacts", "長男 ㈱流山商事（勤務先）０９０－００００－００００"),
    ]
    .iter()
    .chain(changes)
    {
        fields.iter_mut().filter(|(f, _)| f == k).for_each(|(_, value)| *value = v);
    }
    fields
}

async fn a_facility_and_a_patient_come_back_exactly_as_typed(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (municipality, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;

    let created = admin.submit("/admin/facilities/new", "/admin/facilities/new", &facility(&[])).await;
    let location = created.location().unwrap_or_else(|| panic!("no redirect: {}", created.body)).to_string();
    let page = admin.get(&location).await.expect_status(200);
    for typed in [FACILITY_NAME, FACILITY_PHONE, CORP_PHONE, FACILITY_KANA] {
        assert!(page.body.contains(typed), "{typed} is shown as typed: {}", page.body);
    }
    let id = location.rsplit('/').next().unwrap();
    let f = app.store().facility(&crate::helpers::id(&municipality), &crate::helpers::id(id)).await.unwrap();
    assert_eq!(f.info.name.as_str(), FACILITY_NAME);
    assert_eq!(f.info.phone.as_str(), FACILITY_PHONE);
    assert_eq!(f.info.phone.digits(), "0471582222");
    let list = admin.get("/admin/facilities").await.expect_status(200);
    assert!(list.body.contains(FACILITY_NAME) && list.body.contains(FACILITY_PHONE), "{}", list.body);

    let created = admin.submit("/admin/rooms/new", "/admin/rooms/new", &patient(&[])).await;
    let location = created.location().unwrap_or_else(|| panic!("no redirect: {}", created.body)).to_string();
    let page = admin.get(&location).await.expect_status(200);
    for typed in
        ["千葉県流山市平和台３－３－３　①号室", "長男 ㈱流山商事（勤務先）０９０－００００－００００"]
    {
        assert!(page.body.contains(typed), "{typed} is shown as typed: {}", page.body);
    }
    let room = app
        .store()
        .room(&crate::helpers::id(&municipality), &crate::helpers::id(location.rsplit('/').next().unwrap()))
        .await
        .unwrap();
    let p = app.store().patient(&crate::helpers::id(&municipality), &room.patient_id).await.unwrap();
    assert_eq!(p.info.phone.as_deref(), Some("（０９０）１２３４ー５６７８"));
    assert_eq!(p.info.address, "千葉県流山市平和台３－３－３　①号室");
}

async fn validation_still_refuses_what_it_refused(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    for (field, wrong, message) in [
        ("phone", "（０４）７１５８－２２２", "電話番号は0から始まる10桁または11桁"),
        ("phone", "04-7158-222a", "電話番号は0から始まる10桁または11桁"),
        ("kana", "さくら①", "ひらがなまたはカタカナ"),
        ("name", "　", "入力してください。"),
    ] {
        let page = admin
            .submit("/admin/facilities/new", "/admin/facilities/new", &facility(&[(field, wrong)]))
            .await;
        let page = page.expect_status(422);
        assert!(page.body.contains(message), "{field}={wrong}: {}", page.body);
        assert_eq!(page.field_value("corp_phone"), CORP_PHONE, "the other values come back as typed");
    }
    let page = admin
        .submit("/admin/rooms/new", "/admin/rooms/new", &patient(&[("phone", "（０９０）１２３４ー５６")]))
        .await
        .expect_status(422);
    assert!(page.body.contains("電話番号は0から始まる10桁または11桁"), "{}", page.body);
    assert_eq!(page.field_value("address"), "千葉県流山市平和台３－３－３　①号室");
}

async fn a_municipality_code_with_a_wrong_check_digit_is_refused(app: TestApp) {
    let (operator, _) = app.operator().await;
    let page = operator
        .submit(
            "/operator/municipalities/new",
            "/operator/municipalities/new",
            &[("code", "122209"), ("name", "流山市")],
        )
        .await
        .expect_status(422);
    assert!(page.body.contains("検査数字"), "{}", page.body);
    assert_eq!(page.field_value("code"), "122209");
    let page = operator
        .submit(
            "/operator/municipalities/new",
            "/operator/municipalities/new",
            &[("code", "１２２２０３"), ("name", "流山市")],
        )
        .await;
    assert!(page.location().is_some_and(|l| l.starts_with("/operator/municipalities/")), "{}", page.body);
}

async fn the_operator_corrects_a_municipality_name_audited(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (municipality, admin, _) = app.municipality_with_admin(&operator, "122173", "admin01").await;
    let page_path = format!("/operator/municipalities/{municipality}");
    let action = format!("{page_path}/name");
    let page = operator.get(&page_path).await.expect_status(200);
    assert_eq!(page.field_value("municipality_name"), "流山市", "the form starts with the name");

    let refused = operator.send(&page, &action, &[("municipality_name", "　")]).await.expect_status(422);
    assert!(refused.body.contains("入力してください。"), "{}", refused.body);
    let too_long = "柏".repeat(101);
    let refused = operator.send(&page, &action, &[("municipality_name", &too_long)]).await.expect_status(422);
    assert_eq!(refused.field_value("municipality_name"), too_long, "the typed value comes back");

    let done = operator.send(&page, &action, &[("municipality_name", "柏市（旧沼南町）")]).await;
    assert_eq!(done.location(), Some(page_path.as_str()), "{}", done.body);
    let m = app.store().municipality(&crate::helpers::id(&municipality)).await.unwrap();
    assert_eq!(m.name.as_str(), "柏市（旧沼南町）");
    assert_eq!(m.code.as_str(), "122173", "the code stays");
    let chain = app.store().audit_chain(&municipality).await.unwrap();
    let renamed: Vec<_> = chain.iter().filter(|r| r.facts.action.as_str() == "municipality.rename").collect();
    assert_eq!(renamed.len(), 1, "one audit entry in the municipality's chain");
    assert_eq!(renamed[0].facts.object_id, municipality);

    // Only the operator may do it.
    let other = admin.get("/admin").await;
    let refused = admin.send(&other, &action, &[("municipality_name", "x市")]).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert_eq!(
        app.store().municipality(&crate::helpers::id(&municipality)).await.unwrap().name.as_str(),
        "柏市（旧沼南町）"
    );
}
