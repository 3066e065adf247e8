//! The 介護予防 kinds (仕様 3, v4.0 added them): 利用者基本情報 with its 別表1・別表2 and deletion,
//! 介護予防サービス・支援計画書 with its 別表 and deletion. The 家族構成 image (`UPKIHON_IMAGE`) is a
//! JPEG and has no items. The サービス利用票・実績 of the 介護予防 side use the 居宅 kinds
//! (UPPLAN, UPSIKYU, UPHOSOKU, UPJSK …).
//!
//! The layout gives two ○ columns here, 必須 and 必要; `required` follows 必須. Where a row
//! shows a single ○ (委託の有無) it sits right of both columns and is read as 必要 only, so the
//! item is not required. The PDF's format column runs ahead of its rows in these tables: the
//! formats were placed by counting them against the items (the count matches exactly once the
//! telephone numbers, 自室の階数 and the 基本チェックリスト counts are read as having none).

use super::{Format, GAITO_CODES, Item, KEIKAKUSHO_CODES, NINTEI_JOKYO_CODES, SEX_CODES};

/// 計画種類.
pub const KEIKAKU_SHURUI_CODES: &[(&str, &str)] = &[("1", "介護予防支援"), ("2", "介護予防ケアマネジメント")];
/// 委託の有無.
pub const ITAKU_CODES: &[(&str, &str)] = &[("1", "自前"), ("2", "委託")];
/// 相談方法.
pub const SODAN_HOHO_CODES: &[(&str, &str)] = &[("01", "来所"), ("02", "電話"), ("03", "その他")];
/// 相談回数.
pub const SODAN_KAISU_CODES: &[(&str, &str)] = &[("01", "初回"), ("02", "再来")];
/// 利用者の現況.
pub const GENKYO_CODES: &[(&str, &str)] = &[("01", "在宅"), ("02", "入院又は入所中")];
/// 障害高齢者の日常生活自立度.
pub const SHOGAI_JIRITSU_CODES: &[(&str, &str)] = &[
    ("01", "自立"),
    ("11", "J1"),
    ("12", "J2"),
    ("21", "A1"),
    ("22", "A2"),
    ("31", "B1"),
    ("32", "B2"),
    ("41", "C1"),
    ("42", "C2"),
];
/// 認知症高齢者の日常生活自立度.
pub const NINCHI_JIRITSU_CODES: &[(&str, &str)] = &[
    ("01", "自立"),
    ("02", "Ⅰ"),
    ("03", "Ⅱａ"),
    ("04", "Ⅱｂ"),
    ("05", "Ⅲａ"),
    ("06", "Ⅲｂ"),
    ("07", "Ⅳ"),
    ("08", "Ｍ"),
];
/// 要介護状態区分 / 前回の介護度 of 利用者基本情報 (01 非該当, not the コード表 (3) 06 事業対象者).
pub const KIHON_KAIGODO_CODES: &[(&str, &str)] = &[
    ("01", "非該当"),
    ("12", "要支援１"),
    ("13", "要支援２"),
    ("21", "要介護１"),
    ("22", "要介護２"),
    ("23", "要介護３"),
    ("24", "要介護４"),
    ("25", "要介護５"),
];
/// 基本チェックリスト記入結果.
pub const CHECKLIST_CODES: &[(&str, &str)] = &[("1", "事業対象者の該当あり"), ("2", "事業対象者の該当なし")];
/// 居住形態.
pub const KYOJU_CODES: &[(&str, &str)] = &[
    ("01", "自宅"),
    ("02", "借家"),
    ("03", "一戸建て"),
    ("04", "集合住宅"),
    ("05", "自宅・一戸建て"),
    ("06", "自宅・集合住宅"),
    ("07", "借家・一戸建て"),
    ("08", "借家・集合住宅"),
];
/// 有無 (住宅改修の有無, 領域における課題の有無).
pub const UMU_CODES: &[(&str, &str)] = &[("1", "有"), ("2", "無")];
/// 要支援状態区分 of the 介護予防サービス・支援計画書.
pub const YOSHIEN_CODES: &[(&str, &str)] = &[("1", "要支援１"), ("2", "要支援２"), ("3", "地域支援事業")];
/// 事業プログラムの要否.
pub const YOHI_CODES: &[(&str, &str)] = &[("1", "要"), ("2", "否")];
/// 主治医・意見作成者フラグ.
pub const SHUJII_CODES: &[(&str, &str)] = &[("1", "主治医"), ("2", "それ以外")];
/// 経過 (別表2).
pub const KEIKA_CODES: &[(&str, &str)] = &[("01", "治療中"), ("02", "経過観察中"), ("03", "その他")];

const fn item(no: u16, name: &'static str, len: Option<u16>, required: bool, format: Format) -> Item {
    Item { no, name, len, required, format }
}
const fn text(no: u16, name: &'static str) -> Item {
    item(no, name, None, false, Format::Text)
}
const fn date(no: u16, name: &'static str) -> Item {
    item(no, name, Some(8), false, Format::Date)
}
const fn code(no: u16, name: &'static str, len: u16, codes: &'static [(&'static str, &'static str)]) -> Item {
    item(no, name, Some(len), false, Format::Code(codes))
}
const fn phone(no: u16, name: &'static str) -> Item {
    // No format in the layout, 15 long (as 利用者電話番号 of 利用者補足情報).
    item(no, name, Some(15), false, Format::Plain)
}

const SODANBI: Item = item(4, "相談日", Some(8), true, Format::Date);
const KEIKAKU_BI: Item = item(4, "計画作成(変更)日", Some(8), true, Format::Date);

/// 利用者基本情報 (71 items). The layout's example (補足) numbers 家族構成 画像ファイル名 57 and
/// writes 相談日 as `202401`; the table (item 62, YYYYMMDD) is followed.
pub const UPKIHON: &[Item] = &[
    super::CSV_VERSION,
    super::HOKENJA,
    super::HIHOKENJA,
    SODANBI,
    item(5, "計画種類", Some(1), true, Format::Code(KEIKAKU_SHURUI_CODES)),
    // A single ○, right of both columns: read as 必要 only.
    code(6, "委託の有無", 1, ITAKU_CODES),
    text(7, "作成担当者"),
    // 「03:その他」の場合は、「相談方法(その他の内容)」に内容を記載する.
    code(8, "相談方法", 2, SODAN_HOHO_CODES),
    text(9, "相談方法(その他の内容)"),
    code(10, "相談回数", 2, SODAN_KAISU_CODES),
    date(11, "前回相談日"),
    // 「02:入院又は入所中」の場合は、「本人の現況(状況補足)」に内容を記載する.
    code(12, "利用者の現況", 2, GENKYO_CODES),
    text(13, "利用者の現況(状況補足)"),
    // Half-width ﾌﾘｶﾞﾅ as the layout prints it.
    item(14, "利用者氏名ﾌﾘｶﾞﾅ", None, true, Format::Text),
    item(15, "利用者氏名", None, true, Format::Text),
    item(16, "利用者性別", Some(1), true, Format::Code(SEX_CODES)),
    item(17, "利用者生年月日", Some(8), true, Format::Date),
    text(18, "利用者住所"),
    phone(19, "利用者電話番号"),
    phone(20, "利用者Fax番号"),
    // The layout's row ends in 「自立」; the 度 was lost at the column edge (cf. item 22).
    code(21, "障害高齢者の日常生活自立度", 2, SHOGAI_JIRITSU_CODES),
    code(22, "認知症高齢者の日常生活自立度", 2, NINCHI_JIRITSU_CODES),
    code(23, "要介護状態区分", 2, KIHON_KAIGODO_CODES),
    // 「期限」 as printed (item 25 says 期間).
    date(24, "認定有効期限開始日"),
    date(25, "認定有効期間終了日"),
    code(26, "前回の介護度", 2, KIHON_KAIGODO_CODES),
    // The row prints 「記入結」; 果 lost at the column edge.
    code(27, "基本チェックリスト記入結果", 1, CHECKLIST_CODES),
    date(28, "基本チェックリスト記入日"),
    code(29, "障害等認定(身障)", 1, GAITO_CODES),
    code(30, "障害等認定(療育)", 1, GAITO_CODES),
    code(31, "障害等認定(精神)", 1, GAITO_CODES),
    code(32, "障害等認定(難病)", 1, GAITO_CODES),
    text(33, "障害等認定特記事項"),
    code(34, "居住形態", 2, KYOJU_CODES),
    // No format in the layout; a floor number.
    item(35, "自室の階数", Some(2), false, Format::Number),
    code(36, "住宅改修の有無", 1, UMU_CODES),
    code(37, "経済状況(国民年金)", 1, GAITO_CODES),
    code(38, "経済状況(厚生年金)", 1, GAITO_CODES),
    code(39, "経済状況(障害年金)", 1, GAITO_CODES),
    code(40, "経済状況(生活保護)", 1, GAITO_CODES),
    text(41, "経済状況詳細"),
    text(42, "来所者(相談者)氏名"),
    text(43, "来所者(相談者)住所"),
    phone(44, "来所者(相談者)電話番号"),
    text(45, "来所者(相談者)続柄"),
    // The four 緊急連絡先 print their number half-width and a space before the name.
    text(46, "1 緊急連絡先(氏名)"),
    text(47, "1 緊急連絡先(続柄)"),
    text(48, "1 緊急連絡先(住所)"),
    phone(49, "1 緊急連絡先(電話番号)"),
    text(50, "2 緊急連絡先(氏名)"),
    text(51, "2 緊急連絡先(続柄)"),
    text(52, "2 緊急連絡先(住所)"),
    phone(53, "2 緊急連絡先(電話番号)"),
    text(54, "3 緊急連絡先(氏名)"),
    text(55, "3 緊急連絡先(続柄)"),
    text(56, "3 緊急連絡先(住所)"),
    phone(57, "3 緊急連絡先(電話番号)"),
    text(58, "4 緊急連絡先(氏名)"),
    text(59, "4 緊急連絡先(続柄)"),
    text(60, "4 緊急連絡先(住所)"),
    phone(61, "4 緊急連絡先(電話番号)"),
    // The name of the UPKIHON_IMAGE file of this record (rules.rs checks its form).
    text(62, "家族構成 画像ファイル名"),
    text(63, "家族関係等の状況"),
    text(64, "今までの生活"),
    text(65, "１日の生活・すごし方(生活全般)"),
    text(66, "趣味・楽しみ・特技"),
    text(67, "友人・地域との関係"),
    text(68, "現在利用している公的サービス"),
    text(69, "現在利用している非公的サービス"),
    date(70, "同意日"),
    text(71, "同意者氏名"),
];

/// 利用者基本情報_削除 (4 items): the 相談日 of the 利用者基本情報 to delete.
pub const DLTKIHON: &[Item] = &[super::CSV_VERSION, super::HOKENJA, super::HIHOKENJA, SODANBI];

/// 利用者基本情報（別表1）１日の生活・すごし方(タイムスケジュール) (7 items); items 2–4 as the
/// 利用者基本情報 record it belongs to.
pub const UPKIHON_SUB1: &[Item] = &[
    super::CSV_VERSION,
    super::HOKENJA,
    super::HIHOKENJA,
    SODANBI,
    // フリーテキスト in the layout (the example writes 6:00).
    text(5, "時間"),
    text(6, "本人の生活状況"),
    text(7, "介護者・家族の生活状況"),
];

/// 利用者基本情報（別表2）現病歴・既往歴 (11 items).
pub const UPKIHON_SUB2: &[Item] = &[
    super::CSV_VERSION,
    super::HOKENJA,
    super::HIHOKENJA,
    SODANBI,
    // フリーテキスト (the example writes H12年10月, 2023/6).
    text(5, "年月日"),
    text(6, "病名"),
    text(7, "医療機関・医師名"),
    code(8, "主治医・意見作成者フラグ", 1, SHUJII_CODES),
    phone(9, "医療機関・医師電話番号"),
    code(10, "経過", 2, KEIKA_CODES),
    text(11, "治療中の内容"),
];

/// 介護予防サービス・支援計画書 (57 items).
pub const UPYOBO: &[Item] = &[
    super::CSV_VERSION,
    super::HOKENJA,
    super::HIHOKENJA,
    KEIKAKU_BI,
    item(5, "計画種類", Some(1), true, Format::Code(KEIKAKU_SHURUI_CODES)),
    // A single ○, right of both columns: read as 必要 only.
    code(6, "委託の有無", 1, ITAKU_CODES),
    text(7, "整理番号"),
    item(8, "利用者名", None, true, Format::Text),
    date(9, "認定年月日"),
    date(10, "認定有効期間開始日"),
    date(11, "認定有効期間終了日"),
    code(12, "計画書区分", 2, KEIKAKUSHO_CODES),
    code(13, "認定状況区分", 1, NINTEI_JOKYO_CODES),
    code(14, "要支援状態区分", 1, YOSHIEN_CODES),
    text(15, "計画作成者氏名（地域包括支援センター担当者名）"),
    text(16, "計画作成者氏名（担当介護支援専門員名）"),
    text(17, "計画作成者事業者・事業所名"),
    text(18, "計画作成者事業者・事業所住所"),
    phone(19, "計画作成者事業者・事業所電話番号"),
    date(20, "初回作成日"),
    text(21, "担当地域包括支援センター"),
    text(22, "目標とする生活(1日)"),
    text(23, "目標とする生活(1年)"),
    text(24, "【運動・移動】現在の状況"),
    text(25, "【運動・移動】本人・家族の意欲・意向"),
    code(26, "【運動・移動】領域における課題の有無", 1, UMU_CODES),
    text(27, "【運動・移動】領域における課題（背景・原因）"),
    text(28, "【日常生活(家庭生活)】現在の状況"),
    text(29, "【日常生活(家庭生活)】本人・家族の意欲・意向"),
    code(30, "【日常生活(家庭生活)】領域における課題の有無", 1, UMU_CODES),
    text(31, "【日常生活(家庭生活)】領域における課題（背景・原因）"),
    text(32, "【社会参加、対人関係・コミュニケーション】現在の状況"),
    text(33, "【社会参加、対人関係・コミュニケーション】本人・家族の意欲・意向"),
    code(34, "【社会参加、対人関係・コミュニケーション】領域における課題の有無", 1, UMU_CODES),
    text(35, "【社会参加、対人関係・コミュニケーション】領域における課題（背景・原因）"),
    text(36, "【健康管理】現在の状況"),
    text(37, "【健康管理】本人・家族の意欲・意向"),
    code(38, "【健康管理】領域における課題の有無", 1, UMU_CODES),
    text(39, "【健康管理】領域における課題（背景・原因）"),
    text(40, "健康状態の留意点"),
    text(41, "妥当な支援の実施に向けた方針"),
    text(42, "総合的な方針"),
    // Items 43–48: length 1 and no format in the layout; a count.
    item(43, "基本チェックリストの該当数(運動不足)", Some(1), false, Format::Number),
    item(44, "基本チェックリストの該当数(栄養改善)", Some(1), false, Format::Number),
    item(45, "基本チェックリストの該当数(口腔内ケア)", Some(1), false, Format::Number),
    item(46, "基本チェックリストの該当数(閉じこもり予防)", Some(1), false, Format::Number),
    item(47, "基本チェックリストの該当数(物忘れ予防)", Some(1), false, Format::Number),
    item(48, "基本チェックリストの該当数(うつ予防)", Some(1), false, Format::Number),
    code(49, "事業プログラムの要否(運動不足)", 1, YOHI_CODES),
    code(50, "事業プログラムの要否(栄養改善)", 1, YOHI_CODES),
    code(51, "事業プログラムの要否(口腔内ケア)", 1, YOHI_CODES),
    code(52, "事業プログラムの要否(閉じこもり予防)", 1, YOHI_CODES),
    code(53, "事業プログラムの要否(物忘れ予防)", 1, YOHI_CODES),
    code(54, "事業プログラムの要否(うつ予防)", 1, YOHI_CODES),
    text(55, "地域包括支援センター意見"),
    date(56, "同意日"),
    text(57, "同意者氏名"),
];

/// 介護予防サービス・支援計画書_削除 (4 items).
pub const DLTYOBO: &[Item] = &[super::CSV_VERSION, super::HOKENJA, super::HIHOKENJA, KEIKAKU_BI];

/// 介護予防サービス・支援計画書（別表）支援計画 (17 items).
pub const UPYOBO_SUB: &[Item] = &[
    super::CSV_VERSION,
    super::HOKENJA,
    super::HIHOKENJA,
    KEIKAKU_BI,
    // Items 5–17: the layout gives thirteen フリーテキスト for these thirteen rows, the three
    // ＮＯ included (2 long); so they are quoted free text.
    item(5, "課題ＮＯ", Some(2), false, Format::Text),
    text(6, "総合的課題"),
    text(7, "課題に対する目標と具体策の提案"),
    text(8, "具体策についての意向本人・家族"),
    text(9, "目標"),
    item(10, "支援計画ＮＯ", Some(2), false, Format::Text),
    text(11, "【支援計画】目標についての支援のポイント"),
    text(12, "【支援計画】本人等のセルフケアや家族の支援、インフォーマルサービス（民間サービス）"),
    text(13, "【支援計画】介護保険サービス又は地域支援事業（総合事業のサービス）"),
    item(14, "利用サービスＮＯ", Some(2), false, Format::Text),
    text(15, "【利用サービス】サービス種別"),
    text(16, "【利用サービス】事業所(利用先)"),
    text(17, "【利用サービス】期間"),
];
