//! The directory: municipalities, facilities (医療機関・介護事業所) and the people who use Renraku,
//! as the 流山市様式1 names them. Each value type is parsed from user input once.

use crate::FieldError;
use crate::text::{as_typed, digits_only, is_kana, normalize};

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value that was parsed before it was stored.
            pub fn from_trusted(value: String) -> Self {
                Self(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// 地方公共団体コード: the six-digit code of a municipality (e.g. 122203 for 流山市).
    MunicipalityCode
);
text_value!(
    /// A person's or an organisation's name as written (kanji allowed), 1–100 characters, kept
    /// exactly as typed (「①号室」「㈱」 stay): only the outer white space is trimmed.
    Name
);
text_value!(
    /// A ふりがな: kana only (checked after NFKC, so half-width katakana is accepted), 1–100
    /// characters, kept as typed.
    KanaName
);
text_value!(
    /// 医療機関番号 or 介護事業所番号: exactly ten digits.
    FacilityNumber
);
text_value!(
    /// 郵便番号, stored as `123-4567`.
    PostalCode
);
text_value!(
    /// A Japanese phone number, kept and shown as typed (full-width digits, （）, －/ー stay);
    /// valid when its digits (after NFKC) are 10 or 11 and start with 0. [`PhoneNumber::digits`]
    /// gives the digits for `tel:` links and comparisons.
    PhoneNumber
);
text_value!(
    /// An e-mail address, checked for shape only (the address is proven by the mail reaching it).
    Email
);
text_value!(
    /// A login ID: 4–32 characters of ASCII letters, digits, `.`, `_` and `-`, compared without
    /// case. Globally unique, because one person keeps one login across municipalities (I3).
    LoginId
);

text_value!(
    /// 保険者番号: 6 digits (介護保険の保険者), or 8 (医療保険), stored as ASCII digits.
    InsurerNo
);
text_value!(
    /// 被保険者番号 (介護保険): 10 digits, or for a person on 生活保護 alone 「先頭H＋数字9桁」
    /// (ケアプランデータ連携 layout, e.g. `H123456789`). The one rule for the patient form and
    /// the care-plan codec, so a person the codec accepts can be registered and linked.
    InsuredNo
);

const MAX_NAME: usize = 100;

impl InsurerNo {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        match digits_only(input) {
            Some(d) if d.len() == 6 || d.len() == 8 => Ok(Self(d)),
            _ => Err(FieldError::new(field, "保険者番号は6桁または8桁の数字です。")),
        }
    }
}

impl InsuredNo {
    /// Reads what a person typed: digits in any width, with dashes or spaces between groups,
    /// and an `H` (any width or case) in front for 生活保護単独; stored as `H123456789` or
    /// `0123456789`.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let folded = normalize(input);
        let (prefix, rest) = match folded.strip_prefix(['H', 'h']) {
            Some(rest) => ("H", rest),
            None => ("", folded.as_str()),
        };
        match digits_only(rest) {
            Some(d) if prefix.len() + d.len() == 10 => Ok(Self(format!("{prefix}{d}"))),
            _ => Err(FieldError::new(
                field,
                "被保険者番号は10桁の数字です（生活保護単独の方は H と9桁の数字）。",
            )),
        }
    }

    /// Whether `s` is a 被保険者番号 exactly as stored and as files carry it: ten ASCII digits,
    /// or `H` and nine (no other letter, no other width).
    pub fn is_stored_form(s: &str) -> bool {
        let digits = s.strip_prefix('H').unwrap_or(s);
        s.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit())
    }
}

impl MunicipalityCode {
    /// Six digits (any width) whose last is the check digit of 全国地方公共団体コード: the first
    /// five weighted 6, 5, 4, 3, 2 and summed; the check digit is the last digit of 11 minus the
    /// sum's remainder by 11 (122203 流山市, 131016 千代田区).
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        match digits_only(input) {
            Some(d) if d.len() == 6 => {
                let n: Vec<u32> = d.bytes().map(|b| u32::from(b - b'0')).collect();
                if n[5] == Self::check_digit(&n[..5]) {
                    Ok(Self(d))
                } else {
                    Err(FieldError::new(
                        field,
                        "地方公共団体コードの検査数字（6桁目）が合いません。コードをもう一度ご確認ください。",
                    ))
                }
            }
            _ => Err(FieldError::new(field, "地方公共団体コードは6桁の数字で入力してください。")),
        }
    }

    fn check_digit(first_five: &[u32]) -> u32 {
        let sum: u32 = first_five.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
        (11 - sum % 11) % 10
    }
}

impl Name {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let v = as_typed(input);
        if normalize(v).is_empty() {
            return Err(FieldError::new(field, "入力してください。"));
        }
        if v.chars().count() > MAX_NAME || v.chars().any(char::is_control) {
            return Err(FieldError::new(field, "100文字以内で、改行などを含めずに入力してください。"));
        }
        Ok(Self(v.to_string()))
    }
}

impl KanaName {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let v = as_typed(input);
        let folded = normalize(v);
        if folded.is_empty() {
            return Err(FieldError::new(field, "ふりがなを入力してください。"));
        }
        if !is_kana(&folded) || v.chars().count() > MAX_NAME {
            return Err(FieldError::new(field, "ひらがなまたはカタカナで入力してください。"));
        }
        Ok(Self(v.to_string()))
    }
}

impl FacilityNumber {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        match digits_only(input) {
            Some(d) if d.len() == 10 => Ok(Self(d)),
            _ => Err(FieldError::new(field, "10桁の数字で入力してください。")),
        }
    }
}

impl PostalCode {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let v = normalize(input);
        let v = v.strip_prefix('〒').unwrap_or(&v);
        match digits_only(v) {
            Some(d) if d.len() == 7 => Ok(Self(format!("{}-{}", &d[..3], &d[3..]))),
            _ => Err(FieldError::new(field, "郵便番号は7桁の数字で入力してください（例: 270-0192）。")),
        }
    }
}

impl PhoneNumber {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        // Brackets around the area code (「（04）7158-1111」) are as usual as dashes.
        let unbracketed: String = normalize(input).chars().filter(|c| !matches!(c, '(' | ')')).collect();
        match digits_only(&unbracketed) {
            Some(d) if (10..=11).contains(&d.len()) && d.starts_with('0') => {
                Ok(Self(as_typed(input).to_string()))
            }
            _ => Err(FieldError::new(field, "電話番号は0から始まる10桁または11桁の数字で入力してください。")),
        }
    }

    /// The ASCII digits of the number (`（04）7158－1111` → `0471581111`), for `tel:` links and
    /// comparisons; empty if a stored value has none.
    pub fn digits(&self) -> String {
        normalize(&self.0).chars().filter(char::is_ascii_digit).collect()
    }
}

impl Email {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let v = normalize(input);
        let ok = v.len() <= 254
            && v.is_ascii()
            && !v.contains(char::is_whitespace)
            && matches!(v.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if ok {
            Ok(Self(v))
        } else {
            Err(FieldError::new(field, "メールアドレスの形式が正しくありません。"))
        }
    }
}

impl LoginId {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let v = normalize(input).to_ascii_lowercase();
        let ok = (4..=32).contains(&v.len())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(v))
        } else {
            Err(FieldError::new(field, "ログインIDは半角英数字と . _ - の4〜32文字で入力してください。"))
        }
    }
}

code_enum!(
    /// サービス分類: the 24 categories listed on 流山市様式1.
    ServiceCategory {
        Clinic => "clinic", "診療所";
        Hospital => "hospital", "病院";
        DentalClinic => "dental", "歯科医院";
        Pharmacy => "pharmacy", "薬局";
        CareManagement => "care_management", "居宅介護支援";
        HomeHelp => "home_help", "訪問介護";
        HomeBathing => "home_bathing", "訪問入浴介護";
        HomeNursing => "home_nursing", "訪問看護";
        HomeRehab => "home_rehab", "訪問リハ";
        DayService => "day_service", "通所介護";
        DayRehab => "day_rehab", "通所リハ";
        ShortStayLiving => "short_stay_living", "短期入所生活介護";
        ShortStayMedical => "short_stay_medical", "短期入所療養介護";
        NursingHome => "nursing_home", "介護老人福祉施設";
        HealthFacility => "health_facility", "介護老人保健施設";
        WelfareEquipment => "welfare_equipment", "福祉用具貸与・特定福祉用具販売";
        SpecifiedFacility => "specified_facility", "特定施設入居者生活介護";
        DementiaGroupHome => "dementia_group_home", "認知症対応型共同生活介護";
        SmallMultifunction => "small_multifunction", "小規模多機能居宅介護";
        NightHomeHelp => "night_home_help", "夜間対応型訪問介護";
        RegularVisits => "regular_visits", "定期巡回・随時対応型訪問介護看護";
        CommunityCenter => "community_center", "地域包括支援センター";
        Government => "government", "行政";
        Other => "other", "その他";
    }
);

code_enum!(
    /// 職種: the professions of the people in a care team. 様式1 requires one for every user;
    /// `Other` comes with the user's own words.
    Occupation {
        Physician => "physician", "医師";
        Dentist => "dentist", "歯科医師";
        Pharmacist => "pharmacist", "薬剤師";
        Nurse => "nurse", "看護師";
        AssistantNurse => "assistant_nurse", "准看護師";
        PublicHealthNurse => "public_health_nurse", "保健師";
        PhysicalTherapist => "pt", "理学療法士";
        OccupationalTherapist => "ot", "作業療法士";
        SpeechTherapist => "st", "言語聴覚士";
        Dietitian => "dietitian", "管理栄養士";
        DentalHygienist => "dental_hygienist", "歯科衛生士";
        CareManager => "care_manager", "介護支援専門員";
        ChiefCareManager => "chief_care_manager", "主任介護支援専門員";
        SocialWorker => "social_worker", "社会福祉士";
        CareWorker => "care_worker", "介護福祉士";
        HomeHelper => "home_helper", "訪問介護員";
        EquipmentAdviser => "equipment_adviser", "福祉用具専門相談員";
        Counsellor => "counsellor", "生活相談員";
        Clerk => "clerk", "事務職員";
        CityStaff => "city_staff", "行政職員";
        Other => "other", "その他";
    }
);

code_enum!(
    /// What an account may do. Facility managers are members with the 利用管理担当者 flag.
    Role {
        Operator => "operator", "運用者";
        Admin => "admin", "市区町村管理者";
        Member => "member", "システム利用者";
    }
);

code_enum!(
    /// The life cycle of an account: created with an activation link, active, suspended, deleted.
    AccountStatus {
        Pending => "pending", "有効化待ち";
        Active => "active", "利用中";
        Suspended => "suspended", "利用停止";
        Deleted => "deleted", "削除";
    }
);

impl ServiceCategory {
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        Self::from_code(input).ok_or_else(|| FieldError::new(field, "サービス分類を選択してください。"))
    }
}

/// A 職種 with the free text that その他 needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profession {
    pub occupation: Occupation,
    pub other: Option<String>,
}

impl Profession {
    pub fn parse(
        field: &'static str,
        other_field: &'static str,
        code: &str,
        other: &str,
    ) -> Result<Self, FieldError> {
        let occupation = Occupation::from_code(code)
            .ok_or_else(|| FieldError::new(field, "職種を選択してください（必須）。"))?;
        let other = as_typed(other).to_string();
        match occupation {
            Occupation::Other if normalize(&other).is_empty() => {
                Err(FieldError::new(other_field, "「その他」の場合は職種名を入力してください。"))
            }
            Occupation::Other if other.chars().count() > 50 => {
                Err(FieldError::new(other_field, "50文字以内で入力してください。"))
            }
            Occupation::Other => Ok(Self { occupation, other: Some(other) }),
            _ => Ok(Self { occupation, other: None }),
        }
    }

    pub fn label(&self) -> &str {
        self.other.as_deref().unwrap_or(self.occupation.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_numbers_are_exactly_ten_digits_in_any_width() {
        assert_eq!(FacilityNumber::parse("n", "１２３４５６７８９０").map(|n| n.0), Ok("1234567890".into()));
        assert!(FacilityNumber::parse("n", "123456789").is_err());
        assert!(FacilityNumber::parse("n", "12345678901").is_err());
        assert!(FacilityNumber::parse("n", "12345678a0").is_err());
    }

    #[test]
    fn postal_codes_are_stored_with_one_dash() {
        assert_eq!(PostalCode::parse("p", "〒２７０−０１９２").map(|p| p.0), Ok("270-0192".into()));
        assert_eq!(PostalCode::parse("p", "2700192").map(|p| p.0), Ok("270-0192".into()));
        assert!(PostalCode::parse("p", "270-019").is_err());
    }

    #[test]
    fn insured_numbers_are_ten_digits_or_h_and_nine() {
        assert_eq!(InsuredNo::parse("n", "０１２３ ４５６７８９").map(|n| n.0), Ok("0123456789".into()));
        for typed in ["H123456789", "ｈ１２３４５６７８９", "Ｈ123-456-789"] {
            assert_eq!(InsuredNo::parse("n", typed).map(|n| n.0), Ok("H123456789".into()), "{typed}");
        }
        for wrong in ["H1234567890", "123456789", "AB12345678", "A123456789", "HH12345678", ""] {
            assert!(InsuredNo::parse("n", wrong).is_err(), "{wrong}");
        }
        assert!(InsuredNo::is_stored_form("H123456789") && InsuredNo::is_stored_form("0123456789"));
        for wrong in ["h123456789", "AB12345678", "Ｈ12345678", "H12345678", "01234567890"] {
            assert!(!InsuredNo::is_stored_form(wrong), "{wrong}");
        }
        assert_eq!(InsurerNo::parse("n", "１２２２０３").map(|n| n.0), Ok("122203".into()));
        assert!(InsurerNo::parse("n", "1222031").is_err());
    }

    #[test]
    fn phone_numbers_are_kept_as_typed_and_checked_by_their_digits() {
        for typed in ["04ー7158ー1111", "（０４）７１５８－１１１１", "04-7158-1111", "０４７１５８１１１１"]
        {
            let p = PhoneNumber::parse("t", &format!(" {typed}　")).unwrap();
            assert_eq!(p.as_str(), typed);
            assert_eq!(p.digits(), "0471581111");
        }
        assert!(PhoneNumber::parse("t", "4715811").is_err());
        assert!(PhoneNumber::parse("t", "04-7158-111a").is_err());
    }

    #[test]
    fn names_and_kana_are_kept_as_typed() {
        for typed in ["①号室", "㈱流山ケア", "ﾅｶﾞﾚﾔﾏ病院（本院）", "ＡＢＣ訪問看護"]
        {
            assert_eq!(Name::parse("n", &format!("　{typed} ")).unwrap().as_str(), typed);
        }
        assert!(Name::parse("n", "　 ").is_err());
        assert!(Name::parse("n", "a\nb").is_err());
        assert!(Name::parse("n", &"あ".repeat(101)).is_err());
        assert_eq!(KanaName::parse("k", "ﾔﾏﾀﾞ ﾀﾛｳ").unwrap().as_str(), "ﾔﾏﾀﾞ ﾀﾛｳ");
        assert!(KanaName::parse("k", "山田").is_err());
        assert_eq!(Profession::parse("o", "oo", "other", " ㈱専門職 ").unwrap().label(), "㈱専門職");
    }

    #[test]
    fn municipality_codes_carry_a_check_digit() {
        for ok in ["122203", "１２２２０３", "131016", "122173", "011002", "472131"] {
            assert!(MunicipalityCode::parse("c", ok).is_ok(), "{ok}");
        }
        let err = MunicipalityCode::parse("c", "122209").unwrap_err();
        assert!(err.message.contains("検査数字"), "{err:?}");
        assert!(MunicipalityCode::parse("c", "12220").is_err());
    }

    #[test]
    fn there_are_twenty_four_service_categories() {
        assert_eq!(ServiceCategory::ALL.len(), 24);
        for c in ServiceCategory::ALL {
            assert_eq!(ServiceCategory::from_code(c.code()), Some(*c));
        }
    }

    #[test]
    fn other_occupation_needs_its_name() {
        assert!(Profession::parse("o", "oo", "other", " ").is_err());
        assert_eq!(
            Profession::parse("o", "oo", "other", "鍼灸師").map(|p| p.label().to_string()),
            Ok("鍼灸師".into())
        );
        assert!(Profession::parse("o", "oo", "", "").is_err());
        assert_eq!(Profession::parse("o", "oo", "nurse", "x").map(|p| p.other), Ok(None));
    }

    #[test]
    fn login_ids_fold_case_and_width() {
        assert_eq!(LoginId::parse("l", "Ｓａｔｏ.N").map(|l| l.0), Ok("sato.n".into()));
        assert!(LoginId::parse("l", "abc").is_err());
        assert!(LoginId::parse("l", "さとう").is_err());
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(Email::parse("e", "nurse@example.jp").is_ok());
        assert!(Email::parse("e", "nurse@example").is_err());
        assert!(Email::parse("e", "@example.jp").is_err());
    }
}
