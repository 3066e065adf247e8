//! The directory screens (A1–A3): municipalities, facilities and users, each admin confined to
//! their own municipality, and the rule that a facility keeps an active manager.

use crate::both;
use crate::helpers::*;

both!(
    a_facility_is_registered_with_the_fields_of_form_1,
    a_form_with_errors_comes_back_with_every_value_and_a_message_per_field,
    an_admin_sees_only_their_own_municipality,
    the_last_manager_of_a_facility_cannot_be_removed,
    each_screen_is_closed_to_the_wrong_role,
    a_municipality_code_is_registered_once,
    a_care_provider_number_held_in_another_municipality_is_refused_next_to_the_field,
);

pub const FACILITY: &[(&str, &str)] = &[
    ("corp_name", "医療法人さくら会"),
    ("corp_kana", "いりょうほうじんさくらかい"),
    ("corp_representative", "桜 太郎"),
    ("corp_postal_code", "〒２７０－０１９２"),
    ("corp_address", "千葉県流山市平和台1-1-1"),
    ("corp_phone", "04-7158-1111"),
    ("name", "さくら訪問看護ステーション"),
    ("kana", "ｻｸﾗﾎｳﾓﾝｶﾝｺﾞｽﾃｰｼｮﾝ"),
    ("postal_code", "2700192"),
    ("address", "千葉県流山市平和台2-2-2"),
    ("phone", "０４－７１５８－２２２２"),
    ("email", "sakura@example.jp"),
    ("service_category", "home_nursing"),
    ("medical_institution_no", ""),
    ("care_provider_no", "１２３４５６７８９０"),
    ("administrator", "桜 花子"),
];

/// Registers the sample facility as `admin`; returns its id.
pub async fn create_facility(admin: &Browser) -> String {
    let page = admin.submit("/admin/facilities/new", "/admin/facilities/new", FACILITY).await;
    let location = page.location().unwrap_or_else(|| panic!("no redirect: {}", page.body)).to_string();
    location.rsplit('/').next().unwrap().to_string()
}

async fn new_user(admin: &Browser, facility: &str, login: &str, manager: bool) -> Page {
    let path = format!("/admin/facilities/{facility}/users/new");
    let mut fields = vec![
        ("login_id", login),
        ("name", "看護 一郎"),
        ("kana", "かんご いちろう"),
        ("occupation", "nurse"),
    ];
    if manager {
        fields.push(("is_manager", "on"));
    }
    admin.submit(&path, &path, &fields).await
}

async fn a_facility_is_registered_with_the_fields_of_form_1(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (municipality, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let id = create_facility(&admin).await;
    let f = app.store().facility(&crate::helpers::id(&municipality), &crate::helpers::id(&id)).await.unwrap();
    assert_eq!(f.info.corporation.postal_code.as_str(), "270-0192");
    assert_eq!(f.info.kana.as_str(), "ｻｸﾗﾎｳﾓﾝｶﾝｺﾞｽﾃｰｼｮﾝ", "kana is kept as typed");
    assert_eq!(f.info.phone.as_str(), "０４－７１５８－２２２２");
    assert_eq!(f.info.phone.digits(), "0471582222");
    assert_eq!(f.info.care_provider_no.as_ref().unwrap().as_str(), "1234567890");
    assert_eq!(f.info.medical_institution_no, None);
    let page = admin.get(&format!("/admin/facilities/{id}")).await.expect_status(200);
    assert!(page.body.contains("訪問看護"));
    assert!(
        page.body.contains("システム利用管理担当者がいません"),
        "a new facility is flagged until it has one"
    );
    new_user(&admin, &id, "nurse01", true).await.expect_status(201);
    let page = admin.get(&format!("/admin/facilities/{id}")).await;
    assert!(!page.body.contains("システム利用管理担当者がいません"));
    // Editing keeps the id and changes the facts.
    let mut edited: Vec<(&str, &str)> = FACILITY.to_vec();
    edited.retain(|(k, _)| *k != "name");
    edited.push(("name", "さくら訪問看護ステーション南"));
    admin
        .submit(&format!("/admin/facilities/{id}/edit"), &format!("/admin/facilities/{id}/edit"), &edited)
        .await
        .expect_redirect(&format!("/admin/facilities/{id}"));
    assert_eq!(
        app.store()
            .facility(&crate::helpers::id(&municipality), &crate::helpers::id(&id))
            .await
            .unwrap()
            .info
            .name
            .as_str(),
        "さくら訪問看護ステーション南"
    );
    let chain = app.store().audit_chain(&municipality).await.unwrap();
    let actions: Vec<&str> = chain.iter().map(|r| r.facts.action.as_str()).collect();
    for expected in ["admin.create", "facility.create", "user.create", "facility.update"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
}

async fn a_form_with_errors_comes_back_with_every_value_and_a_message_per_field(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (municipality, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let mut fields: Vec<(&str, &str)> = FACILITY
        .iter()
        .copied()
        .filter(|(k, _)| !["care_provider_no", "corp_kana", "email"].contains(k))
        .collect();
    fields.extend([("care_provider_no", "12345"), ("corp_kana", "医療法人"), ("email", "not-an-address")]);
    let page =
        admin.submit("/admin/facilities/new", "/admin/facilities/new", &fields).await.expect_status(422);
    assert!(page.body.contains("10桁の数字で入力してください。"));
    assert!(page.body.contains("ひらがなまたはカタカナで入力してください。"));
    assert!(page.body.contains("メールアドレスの形式が正しくありません。"));
    assert_eq!(page.field_value("name"), "さくら訪問看護ステーション");
    assert_eq!(page.field_value("care_provider_no"), "12345");
    assert_eq!(page.field_value("corp_kana"), "医療法人");
    assert!(page.body.contains("<option value=\"home_nursing\" selected>"));
    assert!(app.store().facilities(&id(&municipality)).await.unwrap().is_empty(), "nothing was written");
}

async fn an_admin_sees_only_their_own_municipality(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, nagareyama, _) = app.municipality_with_admin(&operator, "122203", "nagareyama").await;
    let (_, kashiwa, _) = app.municipality_with_admin(&operator, "122173", "kashiwa").await;
    let facility = create_facility(&nagareyama).await;
    let page = new_user(&nagareyama, &facility, "nurse01", true).await.expect_status(201);
    drop(page);
    let nurse = app.store().identity_by_login("nurse01").await.unwrap().unwrap();
    let nurse = app.store().accounts_of_identity(&nurse.id).await.unwrap().remove(0);
    kashiwa.get(&format!("/admin/facilities/{facility}")).await.expect_status(404);
    kashiwa.get(&format!("/admin/users/{}/edit", nurse.id)).await.expect_status(404);
    kashiwa
        .submit("/admin", &format!("/admin/users/{}/status", nurse.id), &[("status", "deleted")])
        .await
        .expect_status(404);
    kashiwa
        .submit("/admin", &format!("/admin/facilities/{facility}/users/new"), &[("login_id", "x1234")])
        .await
        .expect_status(404);
    let list = kashiwa.get("/admin/facilities").await.expect_status(200);
    assert!(!list.body.contains("さくら"));
    assert_eq!(app.store().account(&nurse.id).await.unwrap().status.code(), "pending");
}

async fn the_last_manager_of_a_facility_cannot_be_removed(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (municipality, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let facility = create_facility(&admin).await;
    new_user(&admin, &facility, "manager1", true).await.expect_status(201);
    let accounts = app.store().accounts(&id(&municipality), Some(&id(&facility))).await.unwrap();
    let manager = &accounts[0];
    let edit = format!("/admin/users/{}/edit", manager.id);
    let page = admin
        .submit(
            &edit,
            &edit,
            &[
                ("name", "看護 一郎"),
                ("kana", "かんご いちろう"),
                ("occupation", "nurse"),
                ("facility_id", &facility),
            ],
        )
        .await
        .expect_status(409);
    assert!(page.body.contains("システム利用管理担当者がいなくなるため、変更できません"));
    assert_eq!(page.field_value("name"), "看護 一郎");
    let page = admin
        .submit(
            &format!("/admin/facilities/{facility}"),
            &format!("/admin/users/{}/status", manager.id),
            &[("status", "deleted")],
        )
        .await
        .expect_status(409);
    assert!(page.body.contains("システム利用管理担当者がいなくなる"));
    assert!(app.store().account(&manager.id).await.unwrap().is_manager);
    // Once a second manager exists, the first may step down.
    new_user(&admin, &facility, "manager2", true).await.expect_status(201);
    admin
        .submit(
            &edit,
            &edit,
            &[
                ("name", "看護 一郎"),
                ("kana", "かんご いちろう"),
                ("occupation", "nurse"),
                ("facility_id", &facility),
            ],
        )
        .await
        .expect_redirect(&format!("/admin/facilities/{facility}"));
    assert!(!app.store().account(&manager.id).await.unwrap().is_manager);
}

async fn each_screen_is_closed_to_the_wrong_role(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    operator.get("/admin").await.expect_status(403);
    operator.get("/admin/audit").await.expect_status(403);
    admin.get("/operator").await.expect_status(403);
    admin.get("/operator/audit.csv").await.expect_status(403);
    let facility = create_facility(&admin).await;
    let issued = new_user(&admin, &facility, "nurse01", true).await.expect_status(201);
    let nurse = app.browser();
    app.activate(&nurse, &activation_link(&issued.body), "Nurse-pass-2026").await;
    app.sign_in_first_time(&nurse, "nurse01", "Nurse-pass-2026").await;
    nurse.get("/").await.expect_redirect("/rooms");
    nurse.get("/rooms").await.expect_status(200);
    for path in
        ["/admin", "/admin/facilities", "/admin/users", "/admin/settings", "/admin/audit", "/operator"]
    {
        nurse.get(path).await.expect_status(403);
    }
    let anonymous = app.browser();
    for path in ["/", "/admin", "/operator", "/account"] {
        anonymous.get(path).await.expect_redirect(&login_for(path));
    }
}

async fn a_municipality_code_is_registered_once(app: TestApp) {
    let (operator, _) = app.operator().await;
    app.municipality_with_admin(&operator, "122203", "admin01").await;
    let page = operator
        .submit(
            "/operator/municipalities/new",
            "/operator/municipalities/new",
            &[("code", "１２２２０３"), ("name", "流山市")],
        )
        .await
        .expect_status(409);
    assert!(page.body.contains("既に登録されています"));
    operator.get("/operator/municipalities/no-such-id").await.expect_status(404);
    let page = operator.get("/operator/municipalities/no-such-id").await;
    assert!(page.body.contains("市区町村が見つかりません"));
}

/// The care-plan exchange routes by 介護事業所番号 across municipalities: another
/// municipality's admin cannot register (or switch a facility to) a number a facility already
/// holds, so they can neither block nor receive its exchange.
async fn a_care_provider_number_held_in_another_municipality_is_refused_next_to_the_field(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (nagareyama_id, nagareyama, _) = app.municipality_with_admin(&operator, "122203", "nagareyama").await;
    let (kashiwa_id, kashiwa, _) = app.municipality_with_admin(&operator, "122173", "kashiwa").await;
    let held = create_facility(&nagareyama).await;
    let message = "この介護事業所番号は Renraku の別の事業所（他の市区町村を含む）に登録されています。";

    let mut fields: Vec<(&str, &str)> = FACILITY.to_vec();
    fields.retain(|(k, _)| !["name", "care_provider_no"].contains(k));
    fields.extend([("name", "かしわ訪問看護"), ("care_provider_no", "1234567890")]);
    let page =
        kashiwa.submit("/admin/facilities/new", "/admin/facilities/new", &fields).await.expect_status(409);
    assert!(page.body.contains(message), "{}", page.body);
    assert_eq!(page.field_value("care_provider_no"), "1234567890", "what was typed comes back");
    assert_eq!(page.field_value("name"), "かしわ訪問看護");
    assert!(app.store().facilities(&id(&kashiwa_id)).await.unwrap().is_empty(), "nothing was written");

    // Nor can an existing facility be switched to it.
    fields.retain(|(k, _)| *k != "care_provider_no");
    fields.push(("care_provider_no", "2234567890"));
    let page = kashiwa.submit("/admin/facilities/new", "/admin/facilities/new", &fields).await;
    let own =
        page.location().unwrap_or_else(|| panic!("{}", page.body)).rsplit('/').next().unwrap().to_string();
    fields.retain(|(k, _)| *k != "care_provider_no");
    fields.push(("care_provider_no", "１２３４５６７８９０"));
    let edit = format!("/admin/facilities/{own}/edit");
    let page = kashiwa.submit(&edit, &edit, &fields).await.expect_status(409);
    assert!(page.body.contains(message), "{}", page.body);
    assert_eq!(page.field_value("care_provider_no"), "１２３４５６７８９０");
    let kept = app.store().facility(&id(&kashiwa_id), &id(&own)).await.unwrap();
    assert_eq!(kept.info.care_provider_no.unwrap().as_str(), "2234567890");

    // The holder is untouched and still edits its facility.
    let edit = format!("/admin/facilities/{held}/edit");
    nagareyama.submit(&edit, &edit, FACILITY).await.expect_redirect(&format!("/admin/facilities/{held}"));
    let routed = app.store().facilities_by_care_provider_no("1234567890").await.unwrap();
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].id.as_str(), held);
    assert_eq!(routed[0].municipality_id.as_str(), nagareyama_id);
}
