//! The 連絡帳 (D1–D5): patients, consent, posts and vital signs. Parsing and the rendering of
//! post text live here because they decide what a post may contain: text with line breaks and
//! links, never markup.

use crate::FieldError;
use crate::text::normalize;

code_enum!(
    /// What a post is about.
    PostCategory {
        Visit => "visit", "訪問記録";
        Vitals => "vitals", "バイタル";
        Medication => "medication", "服薬";
        Meal => "meal", "食事";
        Excretion => "excretion", "排泄";
        Skin => "skin", "皮膚・褥瘡";
        Notice => "notice", "連絡事項";
        Other => "other", "その他";
    }
);

code_enum!(
    /// How urgently the team should look at a post.
    Importance {
        Normal => "normal", "通常";
        Important => "important", "重要";
        Urgent => "urgent", "緊急";
    }
);

code_enum!(
    /// 性別 as the forms ask it.
    Sex {
        Male => "male", "男";
        Female => "female", "女";
        Unspecified => "unspecified", "回答しない";
    }
);

code_enum!(
    /// 要介護度.
    CareLevel {
        None => "none", "なし";
        Support1 => "support1", "要支援1";
        Support2 => "support2", "要支援2";
        Care1 => "care1", "要介護1";
        Care2 => "care2", "要介護2";
        Care3 => "care3", "要介護3";
        Care4 => "care4", "要介護4";
        Care5 => "care5", "要介護5";
        Applying => "applying", "申請中";
    }
);

code_enum!(
    /// Whether a room can be written in. Consent withdrawn or the room closed: everyone reads,
    /// nobody writes.
    RoomStatus {
        Open => "open", "利用中";
        ReadOnly => "read_only", "閲覧のみ";
    }
);

code_enum!(
    /// What a member asks the municipality to do with a room (D6, D7).
    RequestKind {
        AddMember => "add_member", "参加者の追加";
        RemoveMember => "remove_member", "参加者の削除";
        Close => "close", "部屋の終了";
    }
);

code_enum!(
    /// Why a room closes (D7).
    ClosingReason {
        Death => "death", "死亡";
        Admission => "admission", "入所・入院";
        ServiceEnd => "service_end", "サービス終了";
        Other => "other", "その他";
    }
);

code_enum!(
    /// Where a request stands: pending until the municipality decides, or applied at once (see
    /// [`RequestStatus::on_request`]).
    RequestStatus {
        Pending => "pending", "承認待ち";
        Approved => "approved", "承認";
        Rejected => "rejected", "却下";
    }
);

/// A decision on a request that was decided already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPending;

impl RequestStatus {
    /// The status of a request as it is made: an add request by the room's care manager
    /// (介護支援専門員 or 主任介護支援専門員) is approved, and applied, at once when the
    /// municipality lets care managers invite; every other request waits for the municipality.
    pub fn on_request(
        kind: RequestKind,
        care_manager_may_invite: bool,
        requester: Option<crate::directory::Occupation>,
    ) -> RequestStatus {
        use crate::directory::Occupation;
        let care_manager = matches!(requester, Some(Occupation::CareManager | Occupation::ChiefCareManager));
        if kind == RequestKind::AddMember && care_manager_may_invite && care_manager {
            RequestStatus::Approved
        } else {
            RequestStatus::Pending
        }
    }

    /// The municipality's decision: only a pending request can be approved (and then applied)
    /// or rejected.
    pub fn decide(self, approve: bool) -> Result<RequestStatus, NotPending> {
        match self {
            RequestStatus::Pending if approve => Ok(RequestStatus::Approved),
            RequestStatus::Pending => Ok(RequestStatus::Rejected),
            RequestStatus::Approved | RequestStatus::Rejected => Err(NotPending),
        }
    }

    /// Whether the request's change is made (it is, once approved).
    pub fn applies(self) -> bool {
        self == RequestStatus::Approved
    }
}

pub const MAX_POST_CHARS: usize = 10_000;

/// The text of a post: line endings unified, trailing space trimmed, at most
/// [`MAX_POST_CHARS`] characters. The text itself is kept as written (not NFKC-folded), since it
/// is the author's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostText(String);

impl PostText {
    pub fn parse(field: &'static str, input: &str, may_be_empty: bool) -> Result<Self, FieldError> {
        let text = input.replace("\r\n", "\n").replace('\r', "\n");
        let text = text.trim_end().trim_start_matches('\n').to_string();
        if text.is_empty() && !may_be_empty {
            return Err(FieldError::new(field, "本文を入力してください。"));
        }
        if text.chars().count() > MAX_POST_CHARS {
            return Err(FieldError::new(field, format!("本文は{MAX_POST_CHARS}文字以内にしてください。")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(FieldError::new(field, "本文に使えない制御文字が含まれています。"));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    /// The text as HTML: everything escaped, line breaks as `<br>`, and `http(s)://` links made
    /// clickable (opening in a new tab, without a referrer). Nothing else is interpreted.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + 16);
        for (i, line) in self.0.split('\n').enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            render_line(line, &mut out);
        }
        out
    }
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A link ends at whitespace, at a character that cannot be in a URL, or at full-width
/// punctuation (Japanese text often runs straight on after a link).
fn url_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\'' | '`' | '{' | '}' | '|' | '\\' | '^')
}

fn render_line(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(start) = ["https://", "http://"].iter().filter_map(|p| rest.find(p)).min() {
        escape_into(&rest[..start], out);
        let tail = &rest[start..];
        let mut end = tail.find(|c: char| !url_char(c)).unwrap_or(tail.len());
        // Closing punctuation right after a link is usually the sentence's, not the link's.
        while end > 0 && matches!(tail.as_bytes()[end - 1], b'.' | b',' | b')' | b'!' | b'?' | b';' | b':') {
            end -= 1;
        }
        let url = &tail[..end];
        if url.len() <= "https://".len() {
            escape_into(&tail[..end.max(1)], out);
            rest = &tail[end.max(1)..];
            continue;
        }
        out.push_str("<a href=\"");
        escape_into(url, out);
        out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
        escape_into(url, out);
        out.push_str("</a>");
        rest = &tail[end..];
    }
    escape_into(rest, out);
}

/// Structured vital signs (D5). Each is optional; temperature and weight are kept in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vitals {
    pub systolic: Option<i64>,
    pub diastolic: Option<i64>,
    pub pulse: Option<i64>,
    /// 体温 in tenths of a degree Celsius (36.5 ℃ → 365).
    pub temperature_tenths: Option<i64>,
    pub spo2: Option<i64>,
    pub respiration: Option<i64>,
    /// 体重 in tenths of a kilogram.
    pub weight_tenths: Option<i64>,
    /// 血糖 in mg/dL.
    pub glucose: Option<i64>,
}

/// One vital sign's name, unit and plausible range (a value outside is a typing error, not a
/// patient's state worth recording).
pub struct VitalSpec {
    pub field: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub decimals: u32,
    pub min: i64,
    pub max: i64,
}

pub const VITALS: [VitalSpec; 8] = [
    VitalSpec { field: "systolic", label: "血圧（上）", unit: "mmHg", decimals: 0, min: 50, max: 260 },
    VitalSpec { field: "diastolic", label: "血圧（下）", unit: "mmHg", decimals: 0, min: 20, max: 160 },
    VitalSpec { field: "pulse", label: "脈拍", unit: "回/分", decimals: 0, min: 20, max: 250 },
    VitalSpec { field: "temperature", label: "体温", unit: "℃", decimals: 1, min: 300, max: 430 },
    VitalSpec { field: "spo2", label: "SpO2", unit: "%", decimals: 0, min: 50, max: 100 },
    VitalSpec { field: "respiration", label: "呼吸数", unit: "回/分", decimals: 0, min: 4, max: 60 },
    VitalSpec { field: "weight", label: "体重", unit: "kg", decimals: 1, min: 100, max: 2500 },
    VitalSpec { field: "glucose", label: "血糖", unit: "mg/dL", decimals: 0, min: 20, max: 800 },
];

/// Parses "36.5", "３６．５" or "36" with at most `decimals` decimals into an integer scaled by
/// 10^decimals.
pub fn parse_scaled(input: &str, decimals: u32) -> Option<i64> {
    let v = normalize(input);
    let (int, frac) = v.split_once('.').unwrap_or((&v, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 6 {
        return None;
    }
    if frac.len() > decimals as usize || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = 10i64.pow(decimals);
    let frac_value =
        if frac.is_empty() { 0 } else { frac.parse::<i64>().ok()? * 10i64.pow(decimals - frac.len() as u32) };
    Some(int.parse::<i64>().ok()? * scale + frac_value)
}

/// Formats a scaled value back for display ("36.5").
pub fn format_scaled(value: i64, decimals: u32) -> String {
    if decimals == 0 {
        return value.to_string();
    }
    let scale = 10i64.pow(decimals);
    format!("{}.{:0width$}", value / scale, (value % scale).abs(), width = decimals as usize)
}

impl Vitals {
    /// Reads the vitals fields of a form through `get`; empty fields stay `None`.
    pub fn parse(get: impl Fn(&str) -> String) -> Result<Self, Vec<FieldError>> {
        let mut values = [None; 8];
        let mut errors = vec![];
        for (slot, spec) in values.iter_mut().zip(VITALS.iter()) {
            let raw = get(spec.field);
            if raw.trim().is_empty() {
                continue;
            }
            match parse_scaled(&raw, spec.decimals) {
                Some(v) if (spec.min..=spec.max).contains(&v) => *slot = Some(v),
                _ => errors.push(FieldError::new(
                    spec.field,
                    format!(
                        "{}は{}〜{}{}の範囲の数値で入力してください。",
                        spec.label,
                        format_scaled(spec.min, spec.decimals),
                        format_scaled(spec.max, spec.decimals),
                        spec.unit
                    ),
                )),
            }
        }
        let v = Vitals {
            systolic: values[0],
            diastolic: values[1],
            pulse: values[2],
            temperature_tenths: values[3],
            spo2: values[4],
            respiration: values[5],
            weight_tenths: values[6],
            glucose: values[7],
        };
        if let (Some(s), Some(d)) = (v.systolic, v.diastolic)
            && d >= s
        {
            errors.push(FieldError::new("diastolic", "血圧（下）は血圧（上）より小さい値にしてください。"));
        }
        if errors.is_empty() { Ok(v) } else { Err(errors) }
    }

    pub fn values(&self) -> [Option<i64>; 8] {
        [
            self.systolic,
            self.diastolic,
            self.pulse,
            self.temperature_tenths,
            self.spo2,
            self.respiration,
            self.weight_tenths,
            self.glucose,
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.values().iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(s: &str) -> String {
        PostText::parse("t", s, false).unwrap().to_html()
    }

    #[test]
    fn markup_is_shown_as_text_never_run() {
        assert_eq!(html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(html("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(html("a & b \"c\" 'd'"), "a &amp; b &quot;c&quot; &#39;d&#39;");
    }

    #[test]
    fn line_breaks_are_kept() {
        assert_eq!(html("血圧 120/70\r\n食事 全量"), "血圧 120/70<br>\n食事 全量");
    }

    #[test]
    fn links_are_clickable_and_cannot_break_out() {
        assert_eq!(
            html("資料: https://example.jp/a?b=1&c=2。確認を"),
            "資料: <a href=\"https://example.jp/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">https://example.jp/a?b=1&amp;c=2</a>。確認を"
        );
        assert_eq!(
            html("see http://x.jp/\"onmouseover=alert(1)"),
            "see <a href=\"http://x.jp/\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">http://x.jp/</a>&quot;onmouseover=alert(1)"
        );
        assert_eq!(html("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(html("http:// alone"), "http:// alone");
        assert!(html("(https://example.jp).").contains("href=\"https://example.jp\""));
    }

    #[test]
    fn empty_and_oversized_posts_are_refused() {
        assert!(PostText::parse("t", " \n ", false).is_err());
        assert!(PostText::parse("t", "", true).is_ok());
        assert!(PostText::parse("t", &"あ".repeat(MAX_POST_CHARS + 1), false).is_err());
        assert!(PostText::parse("t", "bell\u{7}", false).is_err());
    }

    #[test]
    fn vitals_accept_full_width_and_check_ranges() {
        let form = |k: &str| match k {
            "systolic" => "１３２".to_string(),
            "diastolic" => "78".to_string(),
            "temperature" => "３６．８".to_string(),
            "spo2" => "97".to_string(),
            _ => String::new(),
        };
        let v = Vitals::parse(form).unwrap();
        assert_eq!(
            (v.systolic, v.diastolic, v.temperature_tenths, v.spo2),
            (Some(132), Some(78), Some(368), Some(97))
        );
        assert_eq!(v.pulse, None);
        let bad =
            Vitals::parse(|k| if k == "temperature" { "365".into() } else { String::new() }).unwrap_err();
        assert_eq!(bad[0].field, "temperature");
        assert!(bad[0].message.contains("30.0〜43.0℃"));
        let upside_down = Vitals::parse(|k| match k {
            "systolic" => "70".into(),
            "diastolic" => "120".into(),
            _ => String::new(),
        });
        assert!(upside_down.is_err());
        assert!(Vitals::parse(|k| if k == "weight" { "52.35".into() } else { String::new() }).is_err());
    }

    #[test]
    fn scaled_values_round_trip() {
        assert_eq!(parse_scaled("36.5", 1), Some(365));
        assert_eq!(parse_scaled("36", 1), Some(360));
        assert_eq!(format_scaled(365, 1), "36.5");
        assert_eq!(format_scaled(52, 0), "52");
        assert_eq!(parse_scaled("-1", 0), None);
        assert_eq!(parse_scaled("1e3", 0), None);
    }

    #[test]
    fn stored_codes_of_rooms_and_requests_stay_as_they_are() {
        assert_eq!(RoomStatus::ALL.iter().map(|s| s.code()).collect::<Vec<_>>(), ["open", "read_only"]);
        assert_eq!(
            RequestKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>(),
            ["add_member", "remove_member", "close"]
        );
        assert_eq!(
            ClosingReason::ALL.iter().map(|r| r.code()).collect::<Vec<_>>(),
            ["death", "admission", "service_end", "other"]
        );
        assert_eq!(
            RequestStatus::ALL.iter().map(|s| s.code()).collect::<Vec<_>>(),
            ["pending", "approved", "rejected"]
        );
        assert_eq!(RequestStatus::Pending.label(), "承認待ち");
    }

    #[test]
    fn only_a_pending_request_is_decided() {
        assert_eq!(RequestStatus::Pending.decide(true), Ok(RequestStatus::Approved));
        assert_eq!(RequestStatus::Pending.decide(false), Ok(RequestStatus::Rejected));
        for decided in [RequestStatus::Approved, RequestStatus::Rejected] {
            assert_eq!(decided.decide(true), Err(NotPending));
            assert_eq!(decided.decide(false), Err(NotPending));
        }
        assert!(RequestStatus::Approved.applies());
        assert!(!RequestStatus::Rejected.applies() && !RequestStatus::Pending.applies());
    }

    #[test]
    fn only_a_care_managers_add_request_applies_at_once_and_only_when_allowed() {
        use crate::directory::Occupation;
        let on = RequestStatus::on_request;
        for cm in [Occupation::CareManager, Occupation::ChiefCareManager] {
            assert_eq!(on(RequestKind::AddMember, true, Some(cm)), RequestStatus::Approved);
            assert_eq!(on(RequestKind::AddMember, false, Some(cm)), RequestStatus::Pending);
            assert_eq!(on(RequestKind::RemoveMember, true, Some(cm)), RequestStatus::Pending);
            assert_eq!(on(RequestKind::Close, true, Some(cm)), RequestStatus::Pending);
        }
        assert_eq!(on(RequestKind::AddMember, true, Some(Occupation::Nurse)), RequestStatus::Pending);
        assert_eq!(on(RequestKind::AddMember, true, None), RequestStatus::Pending);
    }
}
