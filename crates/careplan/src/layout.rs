//! The column layout of every file kind (別紙「CSVファイルレイアウト定義書」), as data: each item's
//! number, its Japanese name exactly as the layout gives it, its length and whether it is
//! required, and the format its value must have. Checking one value against its item lives
//! here too ([`Format::check`]); rules that span several items or rows are checked elsewhere.
//!
//! Source: ケアプランデータ連携標準仕様 v4.1 (令和6年10月), CSVバージョン 202407. The layout text
//! was extracted from the PDF, whose columns are sometimes a row out of step; where a length, a
//! ○ or a format had to be placed by reasoning rather than read off its row, the item carries a
//! `//` note saying so.
//!
//! The 介護予防 kinds' tables are in [`yobo`].

pub mod yobo;

/// One file kind of the 居宅 and 介護予防 interfaces (the prefix of its file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `UPHOSOKU` 利用者補足情報: belongs either to 第1〜3表 (file month and item 63 `000000`) or to
    /// 第6・7表 (item 4 `00000000`).
    Uphosoku,
    /// `UP1KYO` 居宅サービス計画書(1)（第1表）.
    Up1kyo,
    /// `DLT1KYO` 第1表の削除 (第2表・第3表 are deleted with it).
    Dlt1kyo,
    /// `UP2KYO` 居宅サービス計画書(2)（第2表）.
    Up2kyo,
    /// `UP3KYO` 週間サービス計画表（第3表）.
    Up3kyo,
    /// `UPPLAN` サービス利用票（第6表）の予定 (居宅介護支援事業所 → サービス事業所).
    Upplan,
    /// `DLTPLAN` 第6表 予定の削除 (第7表 is deleted with it).
    Dltplan,
    /// `UPJSK` 第6表 実績情報 (サービス事業所 → 居宅介護支援事業所); the same layout as `UPPLAN`.
    Upjsk,
    /// `DLTJSK` 第6表 実績情報の削除 (per サービス事業者 and サービス種類).
    Dltjsk,
    /// `UPSIKYU` サービス利用票別表（第7表）: the 区分支給限度 management per service, with 種類別小計
    /// and 全合計 rows.
    Upsikyu,
    /// `UPKIHON` 利用者基本情報 (介護予防).
    Upkihon,
    /// `DLTKIHON` 利用者基本情報の削除 (別表1・別表2・家族構成画像 are deleted with it).
    Dltkihon,
    /// `UPKIHON_SUB1` 利用者基本情報（別表1）１日の生活・すごし方.
    UpkihonSub1,
    /// `UPKIHON_SUB2` 利用者基本情報（別表2）現病歴・既往歴.
    UpkihonSub2,
    /// `UPKIHON_IMAGE` 家族構成の画像: a JPEG, not CSV; it has no items.
    UpkihonImage,
    /// `UPYOBO` 介護予防サービス・支援計画書.
    Upyobo,
    /// `DLTYOBO` 介護予防サービス・支援計画書の削除 (its 別表 is deleted with it).
    Dltyobo,
    /// `UPYOBO_SUB` 介護予防サービス・支援計画書（別表）支援計画.
    UpyoboSub,
}

/// One item (column) of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// The item number in the layout, from 1.
    pub no: u16,
    /// The item's name exactly as the layout prints it (full-width digits kept; names the PDF
    /// broke over two lines joined).
    pub name: &'static str,
    /// 項目長: the maximum length, `None` where the layout says ― (no limit). For digits and
    /// codes it counts characters; for free text, bytes in MS932.
    pub len: Option<u16>,
    /// 必須 (○ in the layout).
    pub required: bool,
    pub format: Format,
}

/// What a value must look like. An empty value is always accepted by `check` (whether the
/// item may be empty is `Item::required`'s business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// フリーテキスト: written in double quotes ("" escapes), commas and newlines kept. At most
    /// `len` bytes in MS932, and nothing MS932 cannot encode.
    Text,
    /// Half-width digits, at most `len` of them (counts, days, rates, amounts that cannot be
    /// negative).
    Number,
    /// 整数 where a 減算 can make the value negative (単位数, 金額 on 第6・7表): an optional
    /// leading `-`, then at most `len` half-width digits (the sign is not counted).
    Integer,
    /// Exactly `len` half-width digits (保険者番号, 事業所番号 …).
    Digits,
    /// Exactly `len` half-width digits or capital letters: サービス種類コード (`11`, `2A`, `A5` …)
    /// and サービスコード (type + item code; on 第7表 also `11AAAA`, `11EEEE`, `11ZZZZ` for the
    /// 種類別小計 rows and `999999` for the 全合計 row).
    Alnum,
    /// YYYYMMDD, a real calendar date.
    Date,
    /// YYYYMMDD, or the given filler (e.g. "00000000" where a record belongs to 第6・7表).
    DateOr(&'static str),
    /// YYYYMM.
    YearMonth,
    /// YYYYMM, or the given filler (e.g. "000000").
    YearMonthOr(&'static str),
    /// HHMM from 0000 to 2400 (第3表 開始時間・終了時間).
    Time,
    /// HHMM (00:00–24:00), or "9999" for a service without times.
    TimeOr9999,
    /// 被保険者番号: 10 half-width digits, or 「生保単独の場合は　先頭H＋数字9桁　例：H123456789」;
    /// nothing else (no other letters).
    InsuredNo,
    /// One of the listed codes: (code, label).
    Code(&'static [(&'static str, &'static str)]),
    /// 日割対象日: 31 characters of '0'/'1', one per day of the month.
    DayBits,
    /// 郵便番号 `XXX-XXXX` (3 digits, a half-width hyphen, 4 digits).
    PostalCode,
    /// 単位数単価 in the layout's 「99.99 形式」: one or two digits, a point, two digits (`10.00`,
    /// `11.40`).
    UnitPrice,
    /// Anything MS932 can encode, at most `len` characters (used where the layout gives no
    /// format: 電話番号, TAISコード, 識別子 …).
    Plain,
}

/// 性別.
pub const SEX_CODES: &[(&str, &str)] = &[("1", "男性"), ("2", "女性")];
/// 認定状況区分 (コード表 (2)).
pub const NINTEI_JOKYO_CODES: &[(&str, &str)] = &[("1", "申請中"), ("2", "認定済")];
/// 要介護状態区分 (コード表 (3)).
pub const YOKAIGO_CODES: &[(&str, &str)] = &[
    ("06", "事業対象者"),
    ("12", "要支援１"),
    ("13", "要支援２"),
    ("21", "要介護１"),
    ("22", "要介護２"),
    ("23", "要介護３"),
    ("24", "要介護４"),
    ("25", "要介護５"),
];
/// 計画書区分 (コード表 (1)).
pub const KEIKAKUSHO_CODES: &[(&str, &str)] = &[
    ("11", "初回"),
    ("12", "紹介"),
    ("21", "継続"),
    ("51", "初回＆紹介"),
    ("52", "初回＆継続"),
    ("53", "紹介＆継続"),
    ("54", "初回＆紹介＆継続"),
];
/// 生活援助中心型の算定理由 (コード表 (4)).
pub const SANTEI_RIYU_CODES: &[(&str, &str)] =
    &[("1", "一人暮らし"), ("2", "家族等が障害、疾病等"), ("3", "その他")];
/// 保険対象区分 (コード表 (5)).
pub const HOKEN_TAISHO_CODES: &[(&str, &str)] = &[("Y", "対象"), ("N", "対象外")];
/// 第3表 曜日.
pub const YOUBI_CODES: &[(&str, &str)] = &[
    ("1", "月曜日"),
    ("2", "火曜日"),
    ("3", "水曜日"),
    ("4", "木曜日"),
    ("5", "金曜日"),
    ("6", "土曜日"),
    ("7", "日曜日"),
];
/// ３０日超区分.
pub const GAITO_CODES: &[(&str, &str)] = &[("1", "該当"), ("0", "非該当")];

/// Item 1 of every kind.
const CSV_VERSION: Item =
    Item { no: 1, name: "CSVバージョン", len: Some(6), required: true, format: Format::YearMonth };
/// Item 2 of every kind: the 保険者番号 of the 自治体 the person belongs to.
const HOKENJA: Item =
    Item { no: 2, name: "保険者番号", len: Some(6), required: true, format: Format::Digits };
/// Item 3 of every kind.
const HIHOKENJA: Item =
    Item { no: 3, name: "被保険者番号", len: Some(10), required: true, format: Format::InsuredNo };

/// 利用者補足情報 (63 items).
pub const UPHOSOKU: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    // 第1表の居宅サービス計画作成（変更）日; 「00000000」 where the record belongs to 第6・7表.
    Item {
        no: 4,
        name: "居宅サービス計画作成（変更）日",
        len: Some(8),
        required: true,
        format: Format::DateOr("00000000"),
    },
    // Items 5–8: the layout shows eight ○ in the rows above item 5 (the ○ column is squeezed
    // upwards there), read as items 1–8.
    Item { no: 5, name: "利用者氏名フリガナ", len: None, required: true, format: Format::Text },
    Item { no: 6, name: "利用者氏名", len: None, required: true, format: Format::Text },
    Item { no: 7, name: "利用者性別", len: Some(1), required: true, format: Format::Code(SEX_CODES) },
    Item { no: 8, name: "利用者生年月日", len: Some(8), required: true, format: Format::Date },
    Item { no: 9, name: "利用者郵便番号", len: Some(8), required: false, format: Format::PostalCode },
    Item { no: 10, name: "利用者住所１", len: None, required: false, format: Format::Text },
    Item { no: 11, name: "利用者住所２", len: None, required: false, format: Format::Text },
    // No format in the layout.
    Item { no: 12, name: "利用者電話番号", len: Some(15), required: false, format: Format::Plain },
    Item { no: 13, name: "認定日", len: Some(8), required: false, format: Format::Date },
    Item {
        no: 14, name: "限度額適用開始年月日", len: Some(8), required: false, format: Format::Date
    },
    Item {
        no: 15, name: "限度額適用終了年月日", len: Some(8), required: false, format: Format::Date
    },
    Item {
        no: 16,
        name: "認定状況区分",
        len: Some(1),
        required: false,
        format: Format::Code(NINTEI_JOKYO_CODES),
    },
    Item { no: 17, name: "要介護状態変更日", len: Some(8), required: false, format: Format::Date },
    Item {
        no: 18,
        name: "要介護状態区分",
        len: Some(2),
        required: false,
        format: Format::Code(YOKAIGO_CODES),
    },
    Item {
        no: 19, name: "区分支給限度基準額", len: Some(7), required: false, format: Format::Number
    },
    // Nine slots of サービス種類別限度額管理, filled from slot １ in order; 短期入所療養介護 is
    // given as 22 (介護老人保健施設).
    Item {
        no: 20, name: "１サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 21, name: "１支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 22, name: "１合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 23, name: "１限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 24, name: "２サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 25, name: "２支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 26, name: "２合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 27, name: "２限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 28, name: "３サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 29, name: "３支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 30, name: "３合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 31, name: "３限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 32, name: "４サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 33, name: "４支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 34, name: "４合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 35, name: "４限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 36, name: "５サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 37, name: "５支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 38, name: "５合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 39, name: "５限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 40, name: "６サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 41, name: "６支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 42, name: "６合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 43, name: "６限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 44, name: "７サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 45, name: "７支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 46, name: "７合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 47, name: "７限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 48, name: "８サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 49, name: "８支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 50, name: "８合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 51, name: "８限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 52, name: "９サービス種類コード", len: Some(2), required: false, format: Format::Alnum
    },
    Item { no: 53, name: "９支給限度基準額", len: Some(7), required: false, format: Format::Number },
    Item { no: 54, name: "９合計単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 55, name: "９限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item { no: 56, name: "合計限度超単位数", len: Some(7), required: false, format: Format::Number },
    Item {
        no: 57, name: "入所前月迄利用日数", len: Some(5), required: false, format: Format::Number
    },
    Item { no: 58, name: "入所累積利用日数", len: Some(5), required: false, format: Format::Number },
    Item {
        no: 59,
        name: "前回要介護状態区分",
        len: Some(2),
        required: false,
        format: Format::Code(YOKAIGO_CODES),
    },
    // 居宅支援事業者番号.
    Item { no: 60, name: "同意書受付業者", len: Some(10), required: false, format: Format::Digits },
    // 居宅支援事業者番号.
    Item { no: 61, name: "更新業者コード", len: Some(10), required: false, format: Format::Digits },
    // ※使用しない.
    Item { no: 62, name: "識別子", len: Some(1), required: false, format: Format::Plain },
    // 「000000」 where the record belongs to 第1・2表.
    Item {
        no: 63, name: "対象年月", len: Some(6), required: true, format: Format::YearMonthOr("000000")
    },
];

/// 居宅サービス計画書(1)（第1表）(28 items).
pub const UP1KYO: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    Item { no: 4, name: "作成年月日", len: Some(8), required: true, format: Format::Date },
    Item { no: 5, name: "利用者郵便番号", len: Some(8), required: false, format: Format::PostalCode },
    Item { no: 6, name: "利用者住所１", len: None, required: false, format: Format::Text },
    Item { no: 7, name: "利用者住所２", len: None, required: false, format: Format::Text },
    // The layout's table prints 「居宅サービス計画作成者」 (the line with 氏名 lost); its item map
    // (【居宅介護支援計画書１表の構成について】) prints the whole name.
    Item {
        no: 8, name: "居宅サービス計画作成者氏名", len: None, required: true, format: Format::Text
    },
    Item { no: 9, name: "介護支援事業者名", len: None, required: true, format: Format::Text },
    Item {
        no: 10,
        name: "介護支援事業者郵便番号",
        len: Some(8),
        required: false,
        format: Format::PostalCode,
    },
    Item { no: 11, name: "介護支援事業者住所１", len: None, required: false, format: Format::Text },
    Item { no: 12, name: "介護支援事業者住所２", len: None, required: false, format: Format::Text },
    // 居宅支援事業者番号.
    Item {
        no: 13, name: "介護支援事業者コード", len: Some(10), required: true, format: Format::Digits
    },
    Item {
        no: 14,
        name: "居宅サービス計画作成（変更）日",
        len: Some(8),
        required: true,
        format: Format::Date,
    },
    Item {
        no: 15, name: "初回居宅サービス計画作成日", len: Some(8), required: true, format: Format::Date
    },
    Item {
        no: 16,
        name: "計画書区分",
        len: Some(2),
        required: false,
        format: Format::Code(KEIKAKUSHO_CODES),
    },
    Item {
        no: 17,
        name: "認定状況区分",
        len: Some(1),
        required: false,
        format: Format::Code(NINTEI_JOKYO_CODES),
    },
    Item { no: 18, name: "認定日", len: Some(8), required: false, format: Format::Date },
    Item { no: 19, name: "認定有効期間開始日", len: Some(8), required: false, format: Format::Date },
    Item { no: 20, name: "認定有効期間終了日", len: Some(8), required: false, format: Format::Date },
    Item {
        no: 21,
        name: "要介護状態区分",
        len: Some(2),
        required: false,
        format: Format::Code(YOKAIGO_CODES),
    },
    Item {
        no: 22,
        name: "利用者及び家族の生活に対する意向を踏まえた課題分析の結果",
        len: None,
        required: false,
        format: Format::Text,
    },
    Item {
        no: 23,
        name: "介護認定審査会の意見及びサービスの種類の指定",
        len: None,
        required: false,
        format: Format::Text,
    },
    Item { no: 24, name: "総合的な援助の方針", len: None, required: false, format: Format::Text },
    Item {
        no: 25,
        name: "生活援助中心型の算定理由",
        len: Some(1),
        required: false,
        format: Format::Code(SANTEI_RIYU_CODES),
    },
    Item { no: 26, name: "その他理由", len: None, required: false, format: Format::Text },
    // 居宅支援事業者番号.
    Item { no: 27, name: "更新業者コード", len: Some(10), required: false, format: Format::Digits },
    // ※使用しない.
    Item { no: 28, name: "識別子", len: Some(1), required: false, format: Format::Plain },
];

/// 第1表の削除 (4 items, all required): the 第1表 of this 保険者番号, 被保険者番号 and
/// 居宅サービス計画作成（変更）日 goes, and its 第2表・第3表 with it.
pub const DLT1KYO: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    Item {
        no: 4,
        name: "居宅サービス計画作成（変更）日",
        len: Some(8),
        required: true,
        format: Format::Date,
    },
];

/// 居宅サービス計画書(2)（第2表）(22 items). The lengths are a row out of step in the layout
/// from item 5 on; they are placed here by the item order.
pub const UP2KYO: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    Item {
        no: 4, name: "居宅計画書作成年月日", len: Some(8), required: true, format: Format::Date
    },
    Item {
        no: 5,
        name: "居宅サービス計画作成（変更）日",
        len: Some(8),
        required: true,
        format: Format::Date,
    },
    // 1〜99.
    Item { no: 6, name: "課題ＮＯ", len: Some(2), required: false, format: Format::Number },
    Item { no: 7, name: "課題", len: None, required: false, format: Format::Text },
    // 課題に対する援助NO 1〜99.
    Item { no: 8, name: "援助目標ＮＯ", len: Some(2), required: false, format: Format::Number },
    Item { no: 9, name: "長期目標", len: None, required: false, format: Format::Text },
    Item { no: 10, name: "短期目標", len: None, required: false, format: Format::Text },
    Item { no: 11, name: "長期期間", len: None, required: false, format: Format::Text },
    Item { no: 12, name: "短期期間", len: None, required: false, format: Format::Text },
    // 目標に対する内容NO 1〜99.
    Item { no: 13, name: "援助内容ＮＯ", len: Some(2), required: false, format: Format::Number },
    Item { no: 14, name: "サービス内容", len: None, required: false, format: Format::Text },
    Item {
        no: 15,
        name: "保険対象区分",
        len: Some(1),
        required: false,
        format: Format::Code(HOKEN_TAISHO_CODES),
    },
    Item { no: 16, name: "サービス種別", len: None, required: false, format: Format::Text },
    // No format in the layout (the free-text lines belong to 16 and 18–20).
    Item {
        no: 17, name: "サービス事業者コード", len: Some(10), required: false, format: Format::Digits
    },
    Item { no: 18, name: "サービス事業所名", len: None, required: false, format: Format::Text },
    Item { no: 19, name: "頻度", len: None, required: false, format: Format::Text },
    Item { no: 20, name: "実施期間", len: None, required: false, format: Format::Text },
    // 居宅支援事業者番号.
    Item { no: 21, name: "更新業者コード", len: Some(10), required: false, format: Format::Digits },
    // ※使用しない.
    Item { no: 22, name: "識別子", len: Some(1), required: false, format: Format::Plain },
];

/// 週間サービス計画表（第3表）(13 items). A row carries either a 週間サービス (6–9), a 主な日常生活上の
/// 活動 (10–12) or a 週単位以外のサービス (13). The layout has both 必須 and 必要 columns; both mark
/// items 1–5 only.
pub const UP3KYO: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    Item {
        no: 4, name: "週間サービス計画表作成年月日", len: Some(8), required: true, format: Format::Date
    },
    Item {
        no: 5,
        name: "居宅サービス計画作成（変更）日",
        len: Some(8),
        required: true,
        format: Format::Date,
    },
    Item { no: 6, name: "介護サービス内容", len: None, required: false, format: Format::Text },
    Item { no: 7, name: "曜日", len: Some(1), required: false, format: Format::Code(YOUBI_CODES) },
    Item { no: 8, name: "開始時間", len: Some(4), required: false, format: Format::Time },
    Item { no: 9, name: "終了時間", len: Some(4), required: false, format: Format::Time },
    Item { no: 10, name: "主な日常生活上の活動", len: None, required: false, format: Format::Text },
    // Same names as 8 and 9 (the layout repeats them): [`Kind::item`] finds 8 and 9.
    Item { no: 11, name: "開始時間", len: Some(4), required: false, format: Format::Time },
    Item { no: 12, name: "終了時間", len: Some(4), required: false, format: Format::Time },
    Item { no: 13, name: "週単位以外のサービス", len: None, required: false, format: Format::Text },
];

/// サービス利用票（第6表）予定, and 実績情報 in the same layout (25 items).
pub const UPPLAN: &[Item] = &[
    CSV_VERSION,
    // ※住所地特例のサービスの場合はサービス提供事業所が取り込んだ後に手動で修正.
    HOKENJA,
    HIHOKENJA,
    Item { no: 4, name: "作成年月日", len: Some(8), required: true, format: Format::Date },
    // The サービス提供年月; the same as the file name's 対象年月.
    Item { no: 5, name: "対象年月", len: Some(6), required: true, format: Format::YearMonth },
    // Items 6 and 7: the layout shows seven ○ in the rows above item 5 (the ○ column is
    // squeezed upwards there), read as items 1–7. 居宅支援事業者番号.
    Item {
        no: 6, name: "プラン担当業者コード", len: Some(10), required: true, format: Format::Digits
    },
    Item { no: 7, name: "プラン担当者名", len: None, required: true, format: Format::Text },
    // 整数, 割引後; 0 where a rate-based code cannot be computed in 実績; 共生型 減算 only on the
    // first day.
    Item { no: 8, name: "単位数", len: Some(6), required: false, format: Format::Integer },
    Item {
        no: 9, name: "前月までの短期入所利用日数", len: Some(5), required: false, format: Format::Number
    },
    Item { no: 10, name: "サービス利用日", len: Some(8), required: true, format: Format::Date },
    // Only for 日割 services, else empty.
    Item { no: 11, name: "日割対象日", len: Some(31), required: false, format: Format::DayBits },
    Item {
        no: 12, name: "サービス開始時刻", len: Some(4), required: true, format: Format::TimeOr9999
    },
    Item {
        no: 13, name: "サービス終了時刻", len: Some(4), required: true, format: Format::TimeOr9999
    },
    // 1日に複数回算定可能なサービスの回数.
    Item { no: 14, name: "サービス回数", len: Some(2), required: true, format: Format::Number },
    Item { no: 15, name: "サービスコード", len: Some(6), required: true, format: Format::Alnum },
    // For 17 福祉用具貸与 / 67 介護予防福祉用具貸与, this or 17 is required.
    Item { no: 16, name: "TAISコード", len: Some(12), required: false, format: Format::Plain },
    Item {
        no: 17, name: "福祉用具届出コード", len: Some(12), required: false, format: Format::Plain
    },
    Item { no: 18, name: "用具名称（機種名）", len: None, required: false, format: Format::Text },
    // 「「17:福祉用具貸与」で、同一サービスコード、同一単位数の場合で明細が異なる場合は、1 からの連番を
    // 記載」「「17:福祉用具貸与」以外の場合は「Null（空）」とする」 (rules.rs). The layout prints no
    // length, so none is assumed.
    Item { no: 19, name: "明細判別コード", len: None, required: false, format: Format::Number },
    // 予定: the planned office; 実績: the office that gave the service.
    Item {
        no: 20, name: "サービス事業者コード", len: Some(10), required: true, format: Format::Digits
    },
    Item { no: 21, name: "サービス事業所名", len: None, required: false, format: Format::Text },
    // Empty when not a satellite.
    Item { no: 22, name: "サテライト枝番", len: Some(2), required: false, format: Format::Number },
    Item {
        no: 23, name: "３０日超区分", len: Some(1), required: true, format: Format::Code(GAITO_CODES)
    },
    // 予定: 居宅介護支援事業者番号; 実績: サービス事業者番号.
    Item { no: 24, name: "更新業者コード", len: Some(10), required: false, format: Format::Digits },
    // ※使用しない.
    Item { no: 25, name: "識別子", len: Some(1), required: false, format: Format::Plain },
];

/// 第6表 実績情報: the layout of [`UPPLAN`].
pub const UPJSK: &[Item] = UPPLAN;

/// 第6表 予定の削除 (4 items, all required): the plan of this person for the month goes, and its
/// 第7表 with it.
pub const DLTPLAN: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    Item { no: 4, name: "削除対象年月", len: Some(6), required: true, format: Format::YearMonth },
];

/// 第6表 実績情報の削除 (6 items, all required): per サービス事業者 and サービス種類.
pub const DLTJSK: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    Item { no: 4, name: "削除対象年月", len: Some(6), required: true, format: Format::YearMonth },
    Item {
        no: 5, name: "サービス事業者コード", len: Some(10), required: true, format: Format::Digits
    },
    Item { no: 6, name: "サービス種類コード", len: Some(2), required: true, format: Format::Alnum },
];

/// サービス利用票別表（第7表）(37 items). Besides one row per service there are 種類別小計 rows
/// (サービスコード = type + `AAAA` 区分支給限度対象, `EEEE` 対象外, `ZZZZ` 30日超過分) and one 全合計
/// row (サービスコード `999999`, サービス事業所コード `9999999999`).
pub const UPSIKYU: &[Item] = &[
    CSV_VERSION,
    HOKENJA,
    HIHOKENJA,
    // The day the 第7表 was made.
    Item { no: 4, name: "作成年月日", len: Some(8), required: true, format: Format::Date },
    Item { no: 5, name: "対象年月", len: Some(6), required: true, format: Format::YearMonth },
    Item { no: 6, name: "サービス事業所名", len: None, required: false, format: Format::Text },
    // `9999999999` on the 全合計 row.
    Item {
        no: 7, name: "サービス事業所コード", len: Some(10), required: true, format: Format::Digits
    },
    Item { no: 8, name: "サテライト枝番", len: Some(2), required: false, format: Format::Number },
    // Alnum also takes the 小計 codes (`11AAAA` …) and the 全合計 `999999` (the layout's 「ALL9」).
    Item { no: 9, name: "サービスコード", len: Some(6), required: true, format: Format::Alnum },
    Item { no: 10, name: "TAISコード", len: Some(12), required: false, format: Format::Plain },
    Item {
        no: 11, name: "福祉用具届出コード", len: Some(12), required: false, format: Format::Plain
    },
    Item { no: 12, name: "用具名称（機種名）", len: None, required: false, format: Format::Text },
    // 0 on 小計 and 全合計 rows.
    Item { no: 13, name: "単位数", len: Some(6), required: true, format: Format::Integer },
    // Empty on 小計 and 全合計 rows.
    Item { no: 14, name: "割引後率", len: Some(5), required: false, format: Format::Number },
    // Empty on 小計 and 全合計 rows.
    Item { no: 15, name: "割引後単位数", len: Some(6), required: false, format: Format::Integer },
    // 3 since v4.0 (was 2).
    Item { no: 16, name: "回数／日数", len: Some(3), required: true, format: Format::Number },
    Item { no: 17, name: "サービス単位金額", len: Some(5), required: false, format: Format::Integer },
    // 「区分支給限度外のサービスの場合はNull（空）固定」 (with an exception for 大規模型通所系 and
    // 小多機・看多機 同一建物): which codes are 限度外 is in the service-code master, not in the
    // file, so this is not checked (check::NEEDS_MASTER says so in every report). A value marks
    // the row as inside the 区分支給限度 for the AAAA subtotal rule (rules.rs).
    Item { no: 18, name: "給付管理単位数", len: Some(6), required: false, format: Format::Integer },
    // Names 19–22, 24 and 28–29 are cut short in the layout's table and printed whole in its item
    // map (【利用表別表の構成について】, which itself misprints 19 as 「種類支給限基準超単位数」).
    Item {
        no: 19, name: "種類支給限度基準超単位数", len: Some(6), required: false, format: Format::Integer
    },
    Item {
        no: 20, name: "種類支給限度基準内単位数", len: Some(6), required: false, format: Format::Integer
    },
    Item {
        no: 21, name: "区分支給限度基準超単位数", len: Some(6), required: false, format: Format::Integer
    },
    Item {
        no: 22, name: "区分支給限度基準内単位数", len: Some(6), required: false, format: Format::Integer
    },
    // 「99.99 形式で入力」.
    Item { no: 23, name: "単位数単価", len: Some(6), required: false, format: Format::UnitPrice },
    Item {
        no: 24, name: "費用総額保険／事業対象分", len: Some(6), required: false, format: Format::Integer
    },
    Item { no: 25, name: "給付率", len: Some(6), required: false, format: Format::Number },
    Item {
        no: 26, name: "保険／事業費請求額", len: Some(6), required: false, format: Format::Integer
    },
    Item {
        no: 27, name: "定額利用者負担単価金額", len: Some(6), required: false, format: Format::Integer
    },
    Item {
        no: 28,
        name: "利用者負担保険／事業対象分",
        len: Some(6),
        required: false,
        format: Format::Integer,
    },
    Item {
        no: 29, name: "利用者負担（全額負担分）", len: Some(6), required: false, format: Format::Integer
    },
    // The layout prints 2, but the spec's 更新履歴 (3.2, 令和5年6月) widened this item (then
    // No.27) from 2 to 5; 5 takes both.
    Item {
        no: 30, name: "前月までの利用日数", len: Some(5), required: false, format: Format::Number
    },
    Item {
        no: 31, name: "当月の計画利用日数", len: Some(2), required: false, format: Format::Number
    },
    Item { no: 32, name: "累積利用日数", len: Some(5), required: false, format: Format::Number },
    Item {
        no: 33, name: "３０日超区分", len: Some(1), required: true, format: Format::Code(GAITO_CODES)
    },
    // Items 34–37 share three format lines in the layout (「9999999999を固定でセット」,
    // 「居宅介護支援事業者番号」, 「※使用しない」). The format column of items 19–37 is printed two
    // entries per table row (one on the row's line, one below it): row 26 carries 33's 「1：該当、
    // 0：非該当」 and, below it, 34's 「9999999999を固定でセット」; row 27's own line is empty (35);
    // below it comes 36's 「居宅介護支援事業者番号」 and row 28 carries 37's 「※使用しない」 — the
    // same 更新業者コード = 事業者番号, 識別子 = 使用しない as every other kind. So 34 is the fixed
    // one (checked in rules.rs when given; the item is not marked ○), and 35 has no format.
    // 9999999999を固定でセット.
    Item { no: 34, name: "事業所コード", len: Some(10), required: false, format: Format::Digits },
    Item { no: 35, name: "入力者コード", len: Some(10), required: false, format: Format::Digits },
    // 居宅介護支援事業者番号.
    Item { no: 36, name: "更新業者コード", len: Some(10), required: false, format: Format::Digits },
    // ※使用しない (left empty: rules.rs).
    Item { no: 37, name: "識別子", len: Some(1), required: false, format: Format::Plain },
];

impl Kind {
    /// Every kind, in the order of the layout document.
    pub const ALL: [Kind; 18] = [
        Kind::Uphosoku,
        Kind::Up1kyo,
        Kind::Dlt1kyo,
        Kind::Up2kyo,
        Kind::Up3kyo,
        Kind::Upplan,
        Kind::Dltplan,
        Kind::Upjsk,
        Kind::Dltjsk,
        Kind::Upsikyu,
        Kind::Upkihon,
        Kind::UpkihonImage,
        Kind::Dltkihon,
        Kind::UpkihonSub1,
        Kind::UpkihonSub2,
        Kind::Upyobo,
        Kind::Dltyobo,
        Kind::UpyoboSub,
    ];

    /// The items of one record of this kind, in column order.
    pub const fn items(self) -> &'static [Item] {
        match self {
            Kind::Uphosoku => UPHOSOKU,
            Kind::Up1kyo => UP1KYO,
            Kind::Dlt1kyo => DLT1KYO,
            Kind::Up2kyo => UP2KYO,
            Kind::Up3kyo => UP3KYO,
            Kind::Upplan => UPPLAN,
            Kind::Dltplan => DLTPLAN,
            Kind::Upjsk => UPJSK,
            Kind::Dltjsk => DLTJSK,
            Kind::Upsikyu => UPSIKYU,
            Kind::Upkihon => yobo::UPKIHON,
            Kind::Dltkihon => yobo::DLTKIHON,
            Kind::UpkihonSub1 => yobo::UPKIHON_SUB1,
            Kind::UpkihonSub2 => yobo::UPKIHON_SUB2,
            Kind::UpkihonImage => &[],
            Kind::Upyobo => yobo::UPYOBO,
            Kind::Dltyobo => yobo::DLTYOBO,
            Kind::UpyoboSub => yobo::UPYOBO_SUB,
        }
    }

    /// The file name's prefix.
    pub const fn prefix(self) -> &'static str {
        match self {
            Kind::Uphosoku => "UPHOSOKU",
            Kind::Up1kyo => "UP1KYO",
            Kind::Dlt1kyo => "DLT1KYO",
            Kind::Up2kyo => "UP2KYO",
            Kind::Up3kyo => "UP3KYO",
            Kind::Upplan => "UPPLAN",
            Kind::Dltplan => "DLTPLAN",
            Kind::Upjsk => "UPJSK",
            Kind::Dltjsk => "DLTJSK",
            Kind::Upsikyu => "UPSIKYU",
            Kind::Upkihon => "UPKIHON",
            Kind::Dltkihon => "DLTKIHON",
            Kind::UpkihonSub1 => "UPKIHON_SUB1",
            Kind::UpkihonSub2 => "UPKIHON_SUB2",
            Kind::UpkihonImage => "UPKIHON_IMAGE",
            Kind::Upyobo => "UPYOBO",
            Kind::Dltyobo => "DLTYOBO",
            Kind::UpyoboSub => "UPYOBO_SUB",
        }
    }

    /// The kind whose file names start with `s` (exactly, capitals as in the standard).
    pub fn from_prefix(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.prefix() == s)
    }

    /// The kind's name for a care-software user.
    pub const fn label(self) -> &'static str {
        match self {
            Kind::Uphosoku => "利用者補足情報",
            Kind::Up1kyo => "居宅サービス計画書(1)（第1表）",
            Kind::Dlt1kyo => "居宅サービス計画書(1)（第1表）の削除",
            Kind::Up2kyo => "居宅サービス計画書(2)（第2表）",
            Kind::Up3kyo => "週間サービス計画表（第3表）",
            Kind::Upplan => "サービス利用票（第6表）予定",
            Kind::Dltplan => "サービス利用票（第6表）予定の削除",
            Kind::Upjsk => "サービス利用票（第6表）実績情報",
            Kind::Dltjsk => "サービス利用票（第6表）実績情報の削除",
            Kind::Upsikyu => "サービス利用票別表（第7表）",
            Kind::Upkihon => "利用者基本情報",
            Kind::Dltkihon => "利用者基本情報の削除",
            Kind::UpkihonSub1 => "利用者基本情報（別表1）１日の生活・すごし方",
            Kind::UpkihonSub2 => "利用者基本情報（別表2）現病歴・既往歴",
            Kind::UpkihonImage => "利用者基本情報 家族構成画像（JPEG）",
            Kind::Upyobo => "介護予防サービス・支援計画書",
            Kind::Dltyobo => "介護予防サービス・支援計画書の削除",
            Kind::UpyoboSub => "介護予防サービス・支援計画書（別表）支援計画",
        }
    }

    /// Whether files of this kind are images (JPEG), not CSV.
    pub const fn is_image(self) -> bool {
        matches!(self, Kind::UpkihonImage)
    }

    /// Whether this kind belongs to the 介護予防 interface (仕様 3).
    pub const fn is_yobo(self) -> bool {
        matches!(
            self,
            Kind::Upkihon
                | Kind::Dltkihon
                | Kind::UpkihonSub1
                | Kind::UpkihonSub2
                | Kind::UpkihonImage
                | Kind::Upyobo
                | Kind::Dltyobo
                | Kind::UpyoboSub
        )
    }

    /// Whether the file name carries `_YYYYMM` after the prefix: 提供年月 for `UPHOSOKU`
    /// (`000000` when it belongs to 第1・2表), 対象年月 for the 第6・7表 kinds and their deletions.
    pub const fn has_month(self) -> bool {
        match self {
            Kind::Uphosoku | Kind::Upplan | Kind::Dltplan | Kind::Upjsk | Kind::Dltjsk | Kind::Upsikyu => {
                true
            }
            Kind::Up1kyo | Kind::Dlt1kyo | Kind::Up2kyo | Kind::Up3kyo => false,
            // The layout names the 介護予防 kinds without a month (仕様 3.4's example
            // `UPKIHON_000000_…` is not followed: the layout defines the names).
            Kind::Upkihon
            | Kind::Dltkihon
            | Kind::UpkihonSub1
            | Kind::UpkihonSub2
            | Kind::UpkihonImage
            | Kind::Upyobo
            | Kind::Dltyobo
            | Kind::UpyoboSub => false,
        }
    }

    /// The first item of this kind with that name (第3表 has 開始時間 and 終了時間 twice: this
    /// finds items 8 and 9).
    pub fn item(self, name: &str) -> Option<&'static Item> {
        self.items().iter().find(|item| item.name == name)
    }
}

impl Format {
    /// Checks one value against this format and `item.len`. An empty value is accepted. The
    /// error is a short message for a care-software user, without the item's name.
    pub fn check(&self, item: &Item, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Ok(());
        }
        let len = item.len.map(usize::from);
        match *self {
            Format::Text => check_text(value, len),
            Format::Number => {
                if is_digits(value) && len.is_none_or(|n| value.len() <= n) {
                    Ok(())
                } else {
                    Err(match len {
                        Some(n) => format!("半角数字{n}桁以内で入力してください"),
                        None => "半角数字で入力してください".to_string(),
                    })
                }
            }
            Format::Integer => {
                let digits = value.strip_prefix('-').unwrap_or(value);
                if is_digits(digits) && len.is_none_or(|n| digits.len() <= n) {
                    Ok(())
                } else {
                    Err(match len {
                        Some(n) => {
                            format!("整数（半角数字{n}桁以内、負の数は先頭に「-」）で入力してください")
                        }
                        None => "整数（半角数字、負の数は先頭に「-」）で入力してください".to_string(),
                    })
                }
            }
            Format::Digits => {
                if is_digits(value) && len.is_none_or(|n| value.len() == n) {
                    Ok(())
                } else {
                    Err(match len {
                        Some(n) => format!("半角数字{n}桁で入力してください"),
                        None => "半角数字で入力してください".to_string(),
                    })
                }
            }
            Format::Alnum => {
                let ok = value.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
                if ok && len.is_none_or(|n| value.len() == n) {
                    Ok(())
                } else {
                    Err(match len {
                        Some(n) => format!("半角英数字{n}桁で入力してください（英字は大文字）"),
                        None => "半角英数字で入力してください（英字は大文字）".to_string(),
                    })
                }
            }
            Format::Date => {
                if is_date(value) {
                    Ok(())
                } else {
                    Err("日付はYYYYMMDDの8桁で入力してください（実際の日付）".to_string())
                }
            }
            Format::DateOr(filler) => {
                if value == filler || is_date(value) {
                    Ok(())
                } else {
                    Err(format!("日付はYYYYMMDDの8桁（実際の日付）か「{filler}」で入力してください"))
                }
            }
            Format::YearMonth => {
                if is_year_month(value) {
                    Ok(())
                } else {
                    Err("年月はYYYYMMの6桁で入力してください".to_string())
                }
            }
            Format::YearMonthOr(filler) => {
                if value == filler || is_year_month(value) {
                    Ok(())
                } else {
                    Err(format!("年月はYYYYMMの6桁か「{filler}」で入力してください"))
                }
            }
            Format::Time => {
                if is_time(value) {
                    Ok(())
                } else {
                    Err("時刻はHHMMの4桁（0000～2400）で入力してください".to_string())
                }
            }
            Format::TimeOr9999 => {
                if value == "9999" || is_time(value) {
                    Ok(())
                } else {
                    Err("時刻はHHMMの4桁（0000～2400）、時間表示の無いサービスは「9999」で入力してください"
                        .to_string())
                }
            }
            Format::InsuredNo => {
                if renraku_domain::directory::InsuredNo::is_stored_form(value) {
                    Ok(())
                } else {
                    Err("半角数字10桁で入力してください（生保単独は「H」＋数字9桁）".to_string())
                }
            }
            Format::Code(codes) => {
                if codes.iter().any(|(code, _)| *code == value) {
                    Ok(())
                } else {
                    let list: String =
                        codes.iter().map(|(code, label)| format!("「{code}:{label}」")).collect();
                    Err(format!("{list}のいずれかです"))
                }
            }
            Format::DayBits => {
                if value.len() == 31 && value.bytes().all(|b| b == b'0' || b == b'1') {
                    Ok(())
                } else {
                    Err("「0」か「1」を31桁（1日～31日）で入力してください".to_string())
                }
            }
            Format::PostalCode => {
                let b = value.as_bytes();
                if value.is_ascii()
                    && b.len() == 8
                    && is_digits(&value[..3])
                    && b[3] == b'-'
                    && is_digits(&value[4..])
                {
                    Ok(())
                } else {
                    Err("郵便番号は「123-4567」の形式で入力してください".to_string())
                }
            }
            Format::UnitPrice => {
                let ok = value.split_once('.').is_some_and(|(int, frac)| {
                    is_digits(int) && int.len() <= 2 && is_digits(frac) && frac.len() == 2
                });
                if ok && len.is_none_or(|n| value.len() <= n) {
                    Ok(())
                } else {
                    Err("「99.99」の形式（例：10.00、11.40）で入力してください".to_string())
                }
            }
            Format::Plain => {
                if value.contains([',', '"', '\r', '\n']) {
                    return Err(
                        "カンマ・引用符・改行は使えません（フリーテキストの項目ではありません）".to_string()
                    );
                }
                check_encodable(value)?;
                match len {
                    Some(n) if value.chars().count() > n => Err(format!("{n}文字以内で入力してください")),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// Whether `s` is one or more ASCII digits.
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The number the ASCII digits `s` spell (the caller has checked they are digits).
fn number(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// YYYYMMDD, a real day of the Gregorian calendar (year 0001 on).
pub(crate) fn is_date(s: &str) -> bool {
    if s.len() != 8 || !is_digits(s) {
        return false;
    }
    let (year, month, day) = (number(&s[..4]), number(&s[4..6]), number(&s[6..]));
    year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// YYYYMM (year 0001 on).
pub(crate) fn is_year_month(s: &str) -> bool {
    s.len() == 6 && is_digits(s) && number(&s[..4]) >= 1 && (1..=12).contains(&number(&s[4..]))
}

/// HHMM from 0000 to 2400.
fn is_time(s: &str) -> bool {
    if s.len() != 4 || !is_digits(s) {
        return false;
    }
    let (hour, minute) = (number(&s[..2]), number(&s[2..]));
    minute < 60 && (hour < 24 || (hour == 24 && minute == 0))
}

/// Every character can be written in Shift_JIS (MS932).
fn check_encodable(value: &str) -> Result<(), String> {
    sjis_len(value).map(|_| ())
}

/// Characters the Shift_JIS encoder accepts but turns into others (¥ → \\, ‾ → ~, − → －):
/// written, they would come back different, so they count as outside MS932.
pub(crate) const LOSSY: [char; 3] = ['\u{A5}', '\u{203E}', '\u{2212}'];

/// The length of `value` in MS932, or which character MS932 cannot hold. This runs for every
/// free-text item of every record, so it looks characters up in a table of what MS932 holds
/// (built once from the encoder) instead of encoding.
fn sjis_len(value: &str) -> Result<usize, String> {
    if value.is_ascii() {
        return Ok(value.len());
    }
    let table = ms932_table();
    let mut total = 0;
    for c in value.chars() {
        let code = c as usize;
        total += match c {
            _ if c.is_ascii() => 1,
            '\u{FF61}'..='\u{FF9F}' => 1,
            _ if code < 0x10000 && table[code / 64] & (1 << (code % 64)) != 0 => 2,
            _ => return Err(outside_ms932(c)),
        };
    }
    Ok(total)
}

/// The message for a character MS932 cannot hold, the same from the check and from writing (so a
/// file's report names it once), always with its code point: a 外字 (private use area, 「外字の
/// 利用は不可とし」) shows as nothing, so only its code point is given.
pub(crate) fn outside_ms932(c: char) -> String {
    let code = c as u32;
    if matches!(c, '\u{E000}'..='\u{F8FF}') || c.is_control() {
        format!(
            "外字など表示できない文字（U+{code:04X}）は Shift-JIS（MS932）で使えません。別の文字に置き換えてください"
        )
    } else {
        format!("「{c}」（U+{code:04X}）は Shift-JIS（MS932）にない文字です。別の文字に置き換えてください")
    }
}

/// One bit per BMP character: does the Shift_JIS (MS932) encoder write it, and write it so that
/// it reads back the same? 8 KiB, made on first use.
fn ms932_table() -> &'static [u64; 1024] {
    static TABLE: std::sync::OnceLock<Box<[u64; 1024]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Box::new([0u64; 1024]);
        let mut encoder = encoding_rs::SHIFT_JIS.new_encoder();
        let (mut utf8, mut out) = ([0u8; 4], [0u8; 8]);
        for code in 0x80..0x10000u32 {
            let Some(c) = char::from_u32(code) else { continue };
            if LOSSY.contains(&c) {
                continue;
            }
            let (result, _, _) =
                encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut utf8), &mut out, true);
            if result == encoding_rs::EncoderResult::InputEmpty {
                table[code as usize / 64] |= 1 << (code % 64);
            }
        }
        table
    })
}

/// Free text: encodable in MS932 and at most `len` bytes there.
fn check_text(value: &str, len: Option<usize>) -> Result<(), String> {
    let bytes = sjis_len(value)?;
    match len {
        Some(n) if bytes > n => {
            Err(format!("長すぎます（Shift_JISで{n}バイト以内、全角は1文字2バイト。いまは{bytes}バイト）"))
        }
        _ => Ok(()),
    }
}

/// What a サービス種類 is to the exchange (仕様 1.3 and 1.4, column 連携対象).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    /// ○: its services are exchanged.
    Target,
    /// 対象外: 「連携対象外のサービス種類が含まれる場合は、そのサービスのレコードは生成しない」 (2.6).
    Excluded,
    /// The care-management side of an exchange (居宅介護支援, 介護予防支援, 介護予防ケアマネジメント):
    /// a sender or receiver in file names, never a service on 第6・7表.
    CareManagement,
}

/// The サービス種類 the standard lists (仕様 1.3 居宅, 1.4 介護予防 and 総合事業), and the
/// care-management types that send and receive. The PDF prints the 連携対象 column a few rows out
/// of step; read in order it gives ○ to the first 20 of 1.3 (11 … 79) and alternates from 33 on,
/// which matches the standard's intent (施設・特定施設・認知症GH except their 短期利用 are planned by
/// their own care managers).
pub const SERVICE_TYPES: &[(&str, &str, Exchange)] = &[
    ("11", "訪問介護", Exchange::Target),
    ("12", "訪問入浴介護", Exchange::Target),
    ("13", "訪問看護", Exchange::Target),
    ("14", "訪問リハビリテーション", Exchange::Target),
    ("15", "通所介護", Exchange::Target),
    ("16", "通所リハビリテーション", Exchange::Target),
    ("17", "福祉用具貸与", Exchange::Target),
    ("21", "短期入所生活介護", Exchange::Target),
    ("22", "短期入所療養介護（介護老人保健施設）", Exchange::Target),
    ("23", "短期入所療養介護（介護療養型医療施設等）", Exchange::Target),
    ("2A", "短期入所療養介護（介護医療院）", Exchange::Target),
    ("31", "居宅療養管理指導", Exchange::Target),
    ("71", "夜間対応型訪問介護", Exchange::Target),
    ("76", "定期巡回・随時対応型訪問介護看護", Exchange::Target),
    ("72", "認知症対応型通所介護", Exchange::Target),
    ("78", "地域密着型通所介護", Exchange::Target),
    ("73", "小規模多機能型居宅介護", Exchange::Target),
    ("68", "小規模多機能型居宅介護（短期利用）", Exchange::Target),
    ("77", "看護小規模多機能型居宅介護", Exchange::Target),
    ("79", "看護小規模多機能型居宅介護（短期利用）", Exchange::Target),
    ("33", "特定施設入居者生活介護", Exchange::Excluded),
    ("27", "特定施設入居者生活介護（短期利用）", Exchange::Target),
    ("36", "地域密着型特定施設入居者生活介護", Exchange::Excluded),
    ("28", "地域密着型特定施設入居者生活介護（短期利用）", Exchange::Target),
    ("32", "認知症対応型共同生活介護（短期利用以外）", Exchange::Excluded),
    ("38", "認知症対応型共同生活介護（短期利用）", Exchange::Target),
    ("41", "特定福祉用具販売", Exchange::Excluded),
    ("42", "住宅改修", Exchange::Excluded),
    ("51", "介護福祉施設サービス", Exchange::Excluded),
    ("52", "介護保健施設サービス", Exchange::Excluded),
    ("53", "介護療養施設サービス", Exchange::Excluded),
    ("54", "地域密着型介護老人福祉施設入所者生活介護", Exchange::Excluded),
    ("59", "特定介護サービス等", Exchange::Excluded),
    ("81", "市町村特別給付", Exchange::Excluded),
    ("62", "介護予防訪問入浴介護", Exchange::Target),
    ("63", "介護予防訪問看護", Exchange::Target),
    ("64", "介護予防訪問リハビリテーション", Exchange::Target),
    ("66", "介護予防通所リハビリテーション", Exchange::Target),
    ("67", "介護予防福祉用具貸与", Exchange::Target),
    ("24", "介護予防短期入所生活介護", Exchange::Target),
    ("25", "介護予防短期入所療養介護（介護老人保健施設）", Exchange::Target),
    ("26", "介護予防短期入所療養介護（介護療養型医療施設等）", Exchange::Target),
    ("2B", "介護予防短期入所療養介護（介護医療院）", Exchange::Target),
    ("34", "介護予防居宅療養管理指導", Exchange::Target),
    ("74", "介護予防認知症対応型通所介護", Exchange::Target),
    ("75", "介護予防小規模多機能型居宅介護", Exchange::Target),
    ("69", "介護予防小規模多機能型居宅介護（短期利用）", Exchange::Target),
    ("35", "介護予防特定施設入居者生活介護", Exchange::Excluded),
    ("37", "介護予防認知症対応型共同生活介護（短期利用以外）", Exchange::Excluded),
    ("39", "介護予防認知症対応型共同生活介護（短期利用）", Exchange::Target),
    ("44", "特定介護予防福祉用具販売", Exchange::Excluded),
    ("45", "介護予防住宅改修", Exchange::Excluded),
    ("A1", "訪問型サービス（みなし）", Exchange::Target),
    ("A2", "訪問型サービス（独自）", Exchange::Target),
    ("A3", "訪問型サービス（独自／定率）", Exchange::Target),
    ("A4", "訪問型サービス（独自／定額）", Exchange::Target),
    ("A5", "通所型サービス（みなし）", Exchange::Target),
    ("A6", "通所型サービス（独自）", Exchange::Target),
    ("A7", "通所型サービス（独自／定率）", Exchange::Target),
    ("A8", "通所型サービス（独自／定額）", Exchange::Target),
    // Not in 1.3/1.4's tables: the offices that make the plans (the layout's examples send from 43).
    ("43", "居宅介護支援", Exchange::CareManagement),
    ("46", "介護予防支援", Exchange::CareManagement),
    ("AF", "介護予防ケアマネジメント", Exchange::CareManagement),
];

/// The standard's name for サービス種類 `code` and what it is to the exchange; `None` for a code
/// the standard does not list.
pub fn service_type(code: &str) -> Option<(&'static str, Exchange)> {
    SERVICE_TYPES.iter().find(|(c, _, _)| *c == code).map(|&(_, name, exchange)| (name, exchange))
}

/// Why サービス種類 `code` cannot be a service of the exchange (a サービスコード's first two
/// characters, DLTJSK's サービス種類コード); `None` when it is a target.
pub fn not_a_service_of_the_exchange(code: &str) -> Option<String> {
    match service_type(code) {
        Some((_, Exchange::Target)) => None,
        Some((name, Exchange::Excluded)) => Some(format!(
            "サービス種類 {code}（{name}）は連携対象外です。連携対象外のサービスのレコードは作りません（標準仕様 2.6）"
        )),
        Some((name, Exchange::CareManagement)) => Some(format!(
            "サービス種類 {code}（{name}）は連携するサービスではありません（標準仕様 1.3・1.4 の連携対象に含まれません）"
        )),
        None => Some(format!("サービス種類 {code} は標準仕様 1.3・1.4 の連携対象のサービス種類にありません")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(len: Option<u16>, format: Format) -> Item {
        Item { no: 1, name: "テスト", len, required: false, format }
    }

    fn ok(format: Format, len: Option<u16>, value: &str) -> bool {
        format.check(&item(len, format), value).is_ok()
    }

    #[test]
    fn item_counts() {
        let expected = [
            (Kind::Uphosoku, 63),
            (Kind::Up1kyo, 28),
            (Kind::Dlt1kyo, 4),
            (Kind::Up2kyo, 22),
            (Kind::Up3kyo, 13),
            (Kind::Upplan, 25),
            (Kind::Dltplan, 4),
            (Kind::Upjsk, 25),
            (Kind::Dltjsk, 6),
            (Kind::Upsikyu, 37),
            (Kind::Upkihon, 71),
            (Kind::Dltkihon, 4),
            (Kind::UpkihonSub1, 7),
            (Kind::UpkihonSub2, 11),
            (Kind::UpkihonImage, 0),
            (Kind::Upyobo, 57),
            (Kind::Dltyobo, 4),
            (Kind::UpyoboSub, 17),
        ];
        for (kind, count) in expected {
            assert_eq!(kind.items().len(), count, "{kind:?}");
        }
        assert_eq!(Kind::Upplan.items(), Kind::Upjsk.items());
    }

    #[test]
    fn numbers_run_without_gaps() {
        for kind in Kind::ALL {
            for (i, item) in kind.items().iter().enumerate() {
                assert_eq!(usize::from(item.no), i + 1, "{kind:?} {}", item.name);
            }
        }
    }

    #[test]
    fn every_kind_starts_with_the_same_three_required_items() {
        for kind in Kind::ALL.into_iter().filter(|k| !k.is_image()) {
            let items = kind.items();
            assert_eq!(items[0].name, "CSVバージョン", "{kind:?}");
            assert_eq!(items[0].format, Format::YearMonth);
            assert_eq!(items[1].name, "保険者番号");
            assert_eq!(items[2].name, "被保険者番号");
            assert!(items[..3].iter().all(|item| item.required), "{kind:?}");
        }
    }

    #[test]
    fn deletions_are_all_required() {
        for kind in [Kind::Dlt1kyo, Kind::Dltplan, Kind::Dltjsk, Kind::Dltkihon, Kind::Dltyobo] {
            assert!(kind.items().iter().all(|item| item.required), "{kind:?}");
        }
    }

    #[test]
    fn names_are_unique_but_for_the_third_tables_times() {
        for kind in Kind::ALL {
            let items = kind.items();
            for (i, a) in items.iter().enumerate() {
                for b in &items[i + 1..] {
                    let repeated = kind == Kind::Up3kyo && matches!(a.name, "開始時間" | "終了時間");
                    assert!(a.name != b.name || repeated, "{kind:?} {} twice", a.name);
                }
            }
        }
        assert_eq!(Kind::Up3kyo.item("開始時間").map(|item| item.no), Some(8));
    }

    #[test]
    fn fixed_formats_have_a_length() {
        for kind in Kind::ALL {
            for item in kind.items() {
                let needs_len = matches!(
                    item.format,
                    Format::Number | Format::Integer | Format::Digits | Format::Alnum | Format::Plain
                );
                // 明細判別コード is the one the layout prints without a length (a serial from 1).
                let unbounded = item.name == "明細判別コード";
                assert!(!needs_len || item.len.is_some() || unbounded, "{kind:?} {}", item.name);
                // A filler must itself fit the length.
                if let Format::DateOr(f) | Format::YearMonthOr(f) = item.format {
                    assert_eq!(item.len.map(usize::from), Some(f.len()));
                }
            }
        }
    }

    #[test]
    fn prefixes_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_prefix(kind.prefix()), Some(kind));
            assert!(!kind.label().is_empty());
        }
        assert_eq!(Kind::from_prefix("UPKIHON"), Some(Kind::Upkihon));
        assert_eq!(Kind::from_prefix("UPKIHON_SUB1"), Some(Kind::UpkihonSub1));
        assert_eq!(Kind::from_prefix("UPYOBO_SUB"), Some(Kind::UpyoboSub));
        assert_eq!(Kind::from_prefix("UPKIHON_SUB3"), None);
        let images: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_image()).collect();
        assert_eq!(images, [Kind::UpkihonImage]);
        assert_eq!(Kind::ALL.into_iter().filter(|k| k.is_yobo()).count(), 8);
        assert_eq!(Kind::from_prefix("upplan"), None);
        assert_eq!(Kind::from_prefix(""), None);
    }

    #[test]
    fn months_in_file_names() {
        let with: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.has_month()).collect();
        assert_eq!(
            with,
            [Kind::Uphosoku, Kind::Upplan, Kind::Dltplan, Kind::Upjsk, Kind::Dltjsk, Kind::Upsikyu]
        );
    }

    #[test]
    fn item_by_name() {
        let item = Kind::Uphosoku.item("居宅サービス計画作成（変更）日");
        assert_eq!(item.map(|i| i.no), Some(4));
        assert_eq!(Kind::Uphosoku.item("１サービス種類コード").map(|i| i.no), Some(20));
        assert_eq!(Kind::Uphosoku.item("９限度超単位数").map(|i| i.no), Some(55));
        assert_eq!(Kind::Upsikyu.item("３０日超区分").map(|i| i.no), Some(33));
        assert_eq!(Kind::Upjsk.item("日割対象日").map(|i| i.format), Some(Format::DayBits));
        assert!(Kind::Up1kyo.item("対象年月").is_none());
        assert_eq!(Kind::Upkihon.item("家族構成 画像ファイル名").map(|i| i.no), Some(62));
        assert_eq!(Kind::Upkihon.item("同意日").map(|i| i.format), Some(Format::Date));
        assert_eq!(Kind::Upyobo.item("計画作成(変更)日").map(|i| i.no), Some(4));
        assert_eq!(Kind::Upyobo.item("事業プログラムの要否(うつ予防)").map(|i| i.no), Some(54));
        assert_eq!(Kind::UpyoboSub.item("利用サービスＮＯ").map(|i| i.no), Some(14));
        assert_eq!(Kind::UpkihonSub2.item("経過").map(|i| i.len), Some(Some(2)));
    }

    /// The 介護予防 tables: the keys and the ○ of the 必須 column.
    #[test]
    fn yobo_keys_and_required_items() {
        let required =
            |kind: Kind| -> Vec<u16> { kind.items().iter().filter(|i| i.required).map(|i| i.no).collect() };
        assert_eq!(required(Kind::Upkihon), [1, 2, 3, 4, 5, 14, 15, 16, 17]);
        assert_eq!(required(Kind::Upyobo), [1, 2, 3, 4, 5, 8]);
        for kind in [Kind::UpkihonSub1, Kind::UpkihonSub2, Kind::UpyoboSub] {
            assert_eq!(required(kind), [1, 2, 3, 4], "{kind:?}");
        }
        for kind in [Kind::Upkihon, Kind::Dltkihon, Kind::UpkihonSub1, Kind::UpkihonSub2] {
            assert_eq!(kind.items()[3].name, "相談日");
        }
        for kind in [Kind::Upyobo, Kind::Dltyobo, Kind::UpyoboSub] {
            assert_eq!(kind.items()[3].name, "計画作成(変更)日");
        }
        let codes = |kind: Kind, no: usize| match kind.items()[no - 1].format {
            Format::Code(codes) => codes.len(),
            _ => 0,
        };
        assert_eq!(codes(Kind::Upkihon, 21), 9);
        assert_eq!(codes(Kind::Upkihon, 22), 8);
        assert_eq!(codes(Kind::Upkihon, 34), 8);
        assert_eq!(codes(Kind::Upyobo, 14), 3);
        assert_eq!(codes(Kind::UpkihonSub2, 10), 3);
    }

    #[test]
    fn empty_is_always_fine() {
        for kind in Kind::ALL {
            for item in kind.items() {
                assert_eq!(item.format.check(item, ""), Ok(()));
            }
        }
    }

    #[test]
    fn dates() {
        let f = Format::Date;
        assert!(ok(f, Some(8), "20240229"));
        assert!(ok(f, Some(8), "20280229"));
        assert!(ok(f, Some(8), "20000229"));
        assert!(ok(f, Some(8), "20261231"));
        assert!(!ok(f, Some(8), "20260229"));
        assert!(!ok(f, Some(8), "21000229"));
        assert!(!ok(f, Some(8), "20260431"));
        assert!(!ok(f, Some(8), "20261301"));
        assert!(!ok(f, Some(8), "20260100"));
        assert!(!ok(f, Some(8), "00000000"));
        assert!(!ok(f, Some(8), "2026-01-01"));
        assert!(!ok(f, Some(8), "2026011"));
        assert!(!ok(f, Some(8), "２０２６０１０１"));
        assert_eq!(
            f.check(&item(Some(8), f), "20260229"),
            Err("日付はYYYYMMDDの8桁で入力してください（実際の日付）".to_string())
        );
        let f = Format::DateOr("00000000");
        assert!(ok(f, Some(8), "00000000"));
        assert!(ok(f, Some(8), "20280229"));
        assert!(!ok(f, Some(8), "0"));
        assert!(!ok(f, Some(8), "20260229"));
    }

    #[test]
    fn year_months() {
        let f = Format::YearMonth;
        assert!(ok(f, Some(6), "202407"));
        assert!(!ok(f, Some(6), "202413"));
        assert!(!ok(f, Some(6), "202400"));
        assert!(!ok(f, Some(6), "000000"));
        assert!(!ok(f, Some(6), "2024071"));
        let f = Format::YearMonthOr("000000");
        assert!(ok(f, Some(6), "000000"));
        assert!(ok(f, Some(6), "201909"));
        assert!(!ok(f, Some(6), "00000000"));
    }

    #[test]
    fn times() {
        let f = Format::TimeOr9999;
        for good in ["0000", "0930", "2359", "2400", "9999"] {
            assert!(ok(f, Some(4), good), "{good}");
        }
        for bad in ["2401", "2500", "0960", "930", "09:30", "99999", "8888"] {
            assert!(!ok(f, Some(4), bad), "{bad}");
        }
        let f = Format::Time;
        assert!(ok(f, Some(4), "2400"));
        assert!(ok(f, Some(4), "0600"));
        assert!(!ok(f, Some(4), "9999"));
        assert!(!ok(f, Some(4), "2401"));
    }

    #[test]
    fn insured_numbers() {
        let f = Format::InsuredNo;
        assert!(ok(f, Some(10), "1234567890"));
        assert!(ok(f, Some(10), "H123456789"));
        assert!(ok(f, Some(10), "0000000001"));
        assert!(!ok(f, Some(10), "H12345678"));
        assert!(!ok(f, Some(10), "H12345678X"));
        assert!(!ok(f, Some(10), "h123456789"));
        assert!(!ok(f, Some(10), "123456789"));
        assert!(!ok(f, Some(10), "12345678901"));
        assert!(!ok(f, Some(10), "12345-6789"));
        assert!(!ok(f, Some(10), "１２３４５６７８９０"));
        assert!(!ok(f, Some(10), "AB12345678"));
        assert!(!ok(f, Some(10), "123456789A"));
    }

    #[test]
    fn codes() {
        let f = Format::Code(SEX_CODES);
        assert!(ok(f, Some(1), "1"));
        assert!(ok(f, Some(1), "2"));
        assert_eq!(f.check(&item(Some(1), f), "3"), Err("「1:男性」「2:女性」のいずれかです".to_string()));
        assert!(!ok(f, Some(1), "男"));
        let f = Format::Code(YOKAIGO_CODES);
        for good in ["06", "12", "13", "21", "22", "23", "24", "25"] {
            assert!(ok(f, Some(2), good), "{good}");
        }
        for bad in ["6", "01", "26", "11", "2"] {
            assert!(!ok(f, Some(2), bad), "{bad}");
        }
        let f = Format::Code(HOKEN_TAISHO_CODES);
        assert!(ok(f, Some(1), "Y"));
        assert!(!ok(f, Some(1), "y"));
        let f = Format::Code(KEIKAKUSHO_CODES);
        assert!(ok(f, Some(2), "54"));
        assert!(!ok(f, Some(2), "55"));
        let f = Format::Code(GAITO_CODES);
        assert!(ok(f, Some(1), "0"));
        assert!(!ok(f, Some(1), "2"));
    }

    #[test]
    fn day_bits() {
        let f = Format::DayBits;
        assert!(ok(f, Some(31), "1111100000000000000000000000000"));
        assert!(ok(f, Some(31), &"0".repeat(31)));
        assert!(!ok(f, Some(31), &"1".repeat(30)));
        assert!(!ok(f, Some(31), &"1".repeat(32)));
        assert!(!ok(f, Some(31), "1111120000000000000000000000000"));
    }

    #[test]
    fn numbers_and_digits() {
        assert!(ok(Format::Number, Some(2), "7"));
        assert!(ok(Format::Number, Some(2), "99"));
        assert!(!ok(Format::Number, Some(2), "100"));
        assert!(!ok(Format::Number, Some(2), "-1"));
        assert!(!ok(Format::Number, Some(2), "1.5"));
        assert!(!ok(Format::Number, Some(2), "１"));
        assert!(ok(Format::Integer, Some(6), "-324"));
        assert!(ok(Format::Integer, Some(6), "123456"));
        assert!(ok(Format::Integer, Some(6), "-123456"));
        assert!(!ok(Format::Integer, Some(6), "1234567"));
        assert!(!ok(Format::Integer, Some(6), "-"));
        assert!(!ok(Format::Integer, Some(6), "+5"));
        assert!(ok(Format::Digits, Some(10), "0300000100"));
        assert!(!ok(Format::Digits, Some(10), "300000100"));
        assert!(!ok(Format::Digits, Some(6), "12345A"));
        assert!(ok(Format::Alnum, Some(2), "11"));
        assert!(ok(Format::Alnum, Some(2), "2A"));
        assert!(ok(Format::Alnum, Some(2), "A5"));
        assert!(!ok(Format::Alnum, Some(2), "a5"));
        assert!(!ok(Format::Alnum, Some(2), "115"));
        assert!(ok(Format::Alnum, Some(6), "111111"));
        assert!(ok(Format::Alnum, Some(6), "17AAAA"));
        assert!(ok(Format::Alnum, Some(6), "999999"));
        assert!(!ok(Format::Alnum, Some(6), "ALL9"));
    }

    #[test]
    fn postal_codes_and_unit_prices() {
        assert!(ok(Format::PostalCode, Some(8), "123-4567"));
        assert!(!ok(Format::PostalCode, Some(8), "1234567"));
        assert!(!ok(Format::PostalCode, Some(8), "123ー4567"));
        assert!(!ok(Format::PostalCode, Some(8), "12-34567"));
        assert!(ok(Format::UnitPrice, Some(6), "10.00"));
        assert!(ok(Format::UnitPrice, Some(6), "11.40"));
        assert!(ok(Format::UnitPrice, Some(6), "9.99"));
        assert!(!ok(Format::UnitPrice, Some(6), "10"));
        assert!(!ok(Format::UnitPrice, Some(6), "10.4"));
        assert!(!ok(Format::UnitPrice, Some(6), "100.00"));
        assert!(!ok(Format::UnitPrice, Some(6), ".40"));
    }

    #[test]
    fn text_counts_shift_jis_bytes() {
        let f = Format::Text;
        assert!(ok(f, None, "長い長い自由記述、改行も\r\n「引用」も"));
        assert!(ok(f, Some(4), "ab"));
        assert!(ok(f, Some(4), "あい"));
        assert!(ok(f, Some(4), "ｱｲｳｴ"));
        assert!(!ok(f, Some(4), "あいう"));
        assert!(!ok(f, Some(4), "あいb"));
        assert!(ok(f, Some(5), "あいb"));
        // 髙 (IBM extension) and ① (NEC special) are in MS932; 𠮷 and emoji are not.
        assert!(ok(f, None, "髙橋①"));
        let err = f.check(&item(None, f), "𠮷野");
        assert_eq!(
            err,
            Err("「𠮷」（U+20BB7）は Shift-JIS（MS932）にない文字です。別の文字に置き換えてください"
                .to_string())
        );
        let err = f.check(&item(None, f), "\u{E000}");
        assert!(err.is_err_and(|e| e.contains("外字") && e.contains("U+E000")));
        assert!(!ok(f, None, "😀"));
        assert!(f.check(&item(Some(4), f), "あいう").is_err_and(|e| e.contains("6バイト")));
    }

    #[test]
    fn plain_counts_characters() {
        let f = Format::Plain;
        assert!(ok(f, Some(15), "03-1234-5678"));
        assert!(ok(f, Some(12), "00001-000010"));
        assert!(!ok(f, Some(12), "00001-0000100"));
        assert!(ok(f, Some(1), "１"));
        assert!(!ok(f, Some(1), "12"));
        assert!(!ok(f, Some(15), "😀"));
    }

    /// 仕様 1.3: 23 types ○ and 11 対象外; 1.4: 14 予防 types ○, 4 more 対象外 (59 and 81 are in
    /// both), A1–A8 ○; and the three care-management types. No code twice.
    #[test]
    fn service_types_of_the_exchange() {
        let count = |e: Exchange| SERVICE_TYPES.iter().filter(|t| t.2 == e).count();
        assert_eq!(count(Exchange::Target), 23 + 14 + 8);
        assert_eq!(count(Exchange::Excluded), 11 + 4);
        assert_eq!(count(Exchange::CareManagement), 3);
        for (i, a) in SERVICE_TYPES.iter().enumerate() {
            assert!(SERVICE_TYPES[i + 1..].iter().all(|b| b.0 != a.0), "{} twice", a.0);
            assert!(ok(Format::Alnum, Some(2), a.0), "{}", a.0);
        }
        assert_eq!(service_type("2A").map(|t| t.1), Some(Exchange::Target));
        assert_eq!(service_type("27").map(|t| t.1), Some(Exchange::Target));
        assert_eq!(service_type("33").map(|t| t.1), Some(Exchange::Excluded));
        assert_eq!(service_type("61"), None);
        assert!(not_a_service_of_the_exchange("13").is_none());
        assert!(not_a_service_of_the_exchange("43").is_some_and(|m| m.contains("居宅介護支援")));
        assert!(not_a_service_of_the_exchange("61").is_some_and(|m| m.contains("61")));
    }

    #[test]
    fn layout_spot_checks() {
        let f = |kind: Kind, no: usize| kind.items()[no - 1];
        assert_eq!(f(Kind::Uphosoku, 4).format, Format::DateOr("00000000"));
        assert_eq!(f(Kind::Uphosoku, 63).format, Format::YearMonthOr("000000"));
        assert!(f(Kind::Uphosoku, 63).required);
        assert_eq!(f(Kind::Upplan, 11).format, Format::DayBits);
        assert_eq!(f(Kind::Upplan, 12).format, Format::TimeOr9999);
        assert_eq!(f(Kind::Upsikyu, 23).format, Format::UnitPrice);
        assert_eq!(f(Kind::Upsikyu, 16).len, Some(3));
        assert_eq!(f(Kind::Up1kyo, 16).format, Format::Code(KEIKAKUSHO_CODES));
        assert_eq!(f(Kind::Up2kyo, 15).format, Format::Code(HOKEN_TAISHO_CODES));
        assert_eq!(f(Kind::Up3kyo, 7).format, Format::Code(YOUBI_CODES));
        // Only Text is quoted in the CSV.
        let texts = Kind::Upsikyu.items().iter().filter(|i| i.format == Format::Text).count();
        assert_eq!(texts, 2);
        // Every slot of the 利用者補足情報 has its four items in order.
        for slot in 0..9 {
            let base = 20 + 4 * slot;
            assert!(f(Kind::Uphosoku, base).name.ends_with("サービス種類コード"));
            assert!(f(Kind::Uphosoku, base + 1).name.ends_with("支給限度基準額"));
            assert!(f(Kind::Uphosoku, base + 2).name.ends_with("合計単位数"));
            assert!(f(Kind::Uphosoku, base + 3).name.ends_with("限度超単位数"));
        }
    }
}
