//! File names: `PREFIX[_YYYYMM]_{sender 10}_{sender type 2}_{receiver 10}_{receiver type 2}_{stamp 14}.CSV`.
//! Files of one transmission share the 14-digit stamp. サービス種類コード are two digits or a
//! letter code of the standard (2A, 2B, A1–A8). Names of the older v3 interface, which
//! carried no service-type codes, are recognised and reported as such.
//!
//! Some 介護予防 prefixes hold an underscore (`UPKIHON_SUB1`, `UPYOBO_SUB`). The 家族構成 image
//! is `UPKIHON_IMAGE_{sender 10}_{type 2}_{receiver 10}_{type 2}_{stamp 14}_{枝番 4}.JPG`: the
//! layout's rule writes `.jpg`, its example `.JPG`, so both are read and printed back as given.

use std::fmt;

use renraku_domain::directory::FacilityNumber;
use renraku_domain::service_kind::ServiceKind;

use crate::layout::Kind;

/// A 事業所 as a file name names it: 事業所番号 (10 digits) and サービス種類コード (2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Office {
    pub number: FacilityNumber,
    pub service_type: ServiceKind,
}

/// A parsed, valid v4 file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName {
    pub kind: Kind,
    /// 提供年月 / 対象年月 (`YYYYMM`, or `000000` for UPHOSOKU tied to 第1・2表); `None` for the
    /// kinds whose names carry no month.
    pub month: Option<String>,
    pub sender: Office,
    pub receiver: Office,
    /// `YYYYMMDDHHMMSS`, shared by every file of one transmission.
    pub stamp: String,
    /// 枝番 (4 digits) of a `UPKIHON_IMAGE` name; `None` for every other kind.
    pub branch: Option<String>,
    /// The extension as written: `.CSV`, or `.JPG` / `.jpg` for an image.
    pub extension: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("ファイル名の先頭（{0}）がケアプランデータ連携（居宅・介護予防）のファイル種別ではありません")]
    UnknownPrefix(String),
    #[error("ファイル名の拡張子は大文字の .CSV です")]
    Extension,
    #[error("家族構成画像（UPKIHON_IMAGE）のファイル名の拡張子は .JPG（または .jpg）です")]
    ImageExtension,
    #[error(
        "v3 形式のファイル名です（サービス種類コードがありません）。v4.1 では「種別_事業所番号_サービス種類コード_…」の形式です"
    )]
    Version3,
    #[error("ファイル名の形式が違います：{0}")]
    Shape(String),
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A サービス種類コード as file names carry it: two digits, or one of the letter codes of
/// `layout::SERVICE_TYPES` (仕様 1.3: 2A 短期入所療養介護（介護医療院）; 1.4: 2B
/// 介護予防短期入所療養介護（介護医療院）and A1–A8 総合事業; AF 介護予防ケアマネジメント, the
/// 地域包括支援センター's own type for 総合事業 plans).
fn service_type(s: &str) -> Option<ServiceKind> {
    ServiceKind::parse(s).filter(|k| k.is_numeric() || crate::layout::service_type(s).is_some())
}

/// Whether `YYYYMMDDHHMMSS` is a real moment.
pub(crate) fn valid_stamp(s: &str) -> bool {
    digits(s, 14)
        && crate::layout::is_date(&s[..8])
        && s[8..10] < *"24"
        && s[10..12] < *"60"
        && s[12..14] < *"60"
}

/// The kind a file name's prefix names, even when the rest of the name is wrong (a two-part
/// prefix such as `UPKIHON_SUB1` first).
pub fn kind_of(name: &str) -> Option<Kind> {
    let mut parts = name.split('_');
    let first = parts.next()?;
    parts
        .next()
        .and_then(|second| Kind::from_prefix(&format!("{first}_{second}")))
        .or_else(|| Kind::from_prefix(first))
}

impl FileName {
    pub fn parse(name: &str) -> Result<FileName, NameError> {
        let (stem, extension) = if let Some(stem) = name.strip_suffix(".JPG") {
            (stem, ".JPG")
        } else if let Some(stem) = name.strip_suffix(".jpg") {
            (stem, ".jpg")
        } else {
            (name.strip_suffix(".CSV").ok_or(NameError::Extension)?, ".CSV")
        };
        let parts: Vec<&str> = stem.split('_').collect();
        // A two-part prefix (UPKIHON_SUB1 …) first, then the one-part one.
        let (kind, rest) = match parts.get(1).and_then(|p| Kind::from_prefix(&format!("{}_{p}", parts[0]))) {
            Some(kind) => (kind, &parts[2..]),
            None => (
                Kind::from_prefix(parts[0]).ok_or_else(|| NameError::UnknownPrefix(parts[0].to_string()))?,
                &parts[1..],
            ),
        };
        if kind.is_image() != (extension != ".CSV") {
            return Err(if kind.is_image() { NameError::ImageExtension } else { NameError::Extension });
        }
        let (month, rest) = if kind.has_month() {
            match rest.split_first() {
                Some((m, rest)) if digits(m, 6) => (Some(m.to_string()), rest),
                _ => return Err(NameError::Shape("種別の次に年月（YYYYMM、6桁）が必要です".into())),
            }
        } else {
            (None, rest)
        };
        // 仕様 3.4's example writes `UPKIHON_000000_…`; the layout, which defines the names,
        // has no month for any 介護予防 kind.
        if kind.is_yobo() && rest.len() == 6 && digits(rest[0], 6) && !kind.is_image() {
            return Err(NameError::Shape(format!(
                "{} のファイル名に年月はありません（「{}_送信元事業所番号_…」。仕様書3.4の例の「_000000」は付けません）",
                kind.prefix(),
                kind.prefix()
            )));
        }
        let (branch, rest) = if kind.is_image() {
            match rest.split_last() {
                Some((b, rest)) if digits(b, 4) => (Some(b.to_string()), rest),
                _ => {
                    return Err(NameError::Shape(
                        "家族構成画像のファイル名は作成日時の後に枝番（4桁の数字、0001から）が必要です"
                            .into(),
                    ));
                }
            }
        } else {
            (None, rest)
        };
        match rest {
            [s, st, r, rt, stamp] => {
                if !digits(s, 10) || !digits(r, 10) {
                    return Err(NameError::Shape("事業所番号は10桁の数字です".into()));
                }
                let (Some(st), Some(rt)) = (service_type(st), service_type(rt)) else {
                    return Err(NameError::Shape(
                        "サービス種類コードは2桁の数字か、2A・2B・A1～A8・AF です".into(),
                    ));
                };
                if !valid_stamp(stamp) {
                    return Err(NameError::Shape("末尾は作成日時（YYYYMMDDHHMMSS、14桁）です".into()));
                }
                Ok(FileName {
                    kind,
                    month,
                    // Ten digits, checked above.
                    sender: Office { number: FacilityNumber::from_trusted(s.to_string()), service_type: st },
                    receiver: Office { number: FacilityNumber::from_trusted(r.to_string()), service_type: rt },
                    stamp: stamp.to_string(),
                    branch,
                    extension,
                })
            }
            [s, r, stamp] if digits(s, 10) && digits(r, 10) && digits(stamp, 14) => Err(NameError::Version3),
            _ => Err(NameError::Shape(
                "「種別[_年月]_送信元事業所番号_サービス種類_送信先事業所番号_サービス種類_作成日時.CSV」ではありません".into(),
            )),
        }
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.prefix())?;
        if let Some(month) = &self.month {
            write!(f, "_{month}")?;
        }
        write!(
            f,
            "_{}_{}_{}_{}_{}",
            self.sender.number,
            self.sender.service_type,
            self.receiver.number,
            self.receiver.service_type,
            self.stamp
        )?;
        if let Some(branch) = &self.branch {
            write!(f, "_{branch}")?;
        }
        f.write_str(self.extension)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_layout_parse_and_print_back_exactly() {
        for name in [
            "UPHOSOKU_000000_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPHOSOKU_201909_0300000100_43_0300000005_11_20191025200201.CSV",
            "UP1KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            "DLT1KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            "UP2KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            "UP3KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPPLAN_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPJSK_201912_0300000005_43_0300000100_11_20191025200201.CSV",
            "DLTPLAN_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            "DLTJSK_201912_0300000005_43_0300000100_11_20191025200201.CSV",
            "UPSIKYU_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPKIHON_0300000100_43_0300000005_11_20191025200201.CSV",
            "DLTKIHON_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPKIHON_SUB1_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPKIHON_SUB2_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0001.JPG",
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0002.JPG",
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0001.jpg",
            "UPYOBO_0300000100_43_0300000005_11_20191025200201.CSV",
            "DLTYOBO_0300000100_43_0300000005_11_20191025200201.CSV",
            "UPYOBO_SUB_0300000100_43_0300000005_11_20191025200201.CSV",
        ] {
            let parsed = FileName::parse(name).unwrap();
            assert_eq!(parsed.to_string(), name);
        }
        let plan = FileName::parse("UPPLAN_201912_0300000100_43_0300000005_11_20191025200201.CSV").unwrap();
        assert_eq!(plan.kind, Kind::Upplan);
        assert_eq!(plan.month.as_deref(), Some("201912"));
        let office = Office {
            number: FacilityNumber::from_trusted("0300000100".into()),
            service_type: ServiceKind::parse("43").unwrap(),
        };
        assert_eq!(plan.sender, office);
        assert_eq!(plan.receiver.service_type.as_str(), "11");
        assert_eq!(plan.stamp, "20191025200201");
    }

    /// 仕様 1.3 and 1.4 list 2A (介護医療院), 2B (介護予防) and A1–A8 (総合事業) among the types
    /// of the exchange: names carrying them are accepted, as sender or receiver.
    #[test]
    fn service_types_with_a_letter_from_the_standard_are_accepted() {
        for kind in ["2A", "2B", "A1", "A3", "A8", "AF"] {
            let name = format!("UPPLAN_201912_0300000100_43_0300000005_{kind}_20191025200201.CSV");
            let parsed = FileName::parse(&name).unwrap();
            assert_eq!(parsed.receiver.service_type.as_str(), kind);
            assert_eq!(parsed.to_string(), name);
            let name = format!("UPJSK_201912_0300000005_{kind}_0300000100_43_20191025200201.CSV");
            assert_eq!(FileName::parse(&name).unwrap().sender.service_type.as_str(), kind);
        }
    }

    #[test]
    fn yobo_names() {
        let sub = FileName::parse("UPKIHON_SUB1_0300000100_43_0300000005_11_20191025200201.CSV").unwrap();
        assert_eq!((sub.kind, sub.month, sub.branch), (Kind::UpkihonSub1, None, None));
        let image =
            FileName::parse("UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0002.JPG").unwrap();
        assert_eq!(image.kind, Kind::UpkihonImage);
        assert_eq!(image.branch.as_deref(), Some("0002"));
        assert_eq!(image.stamp, "20191025200201");
        // 総合事業 (A1–A8) offices as sender and receiver.
        let name = "UPYOBO_0300000100_A2_0300000005_A6_20191025200201.CSV";
        let parsed = FileName::parse(name).unwrap();
        assert_eq!(
            (parsed.sender.service_type.as_str(), parsed.receiver.service_type.as_str()),
            ("A2", "A6")
        );
        assert_eq!(parsed.to_string(), name);
        // 仕様 3.4's example carries a month (and a nine-digit office): the layout has none.
        let err =
            FileName::parse("UPKIHON_000000_0300000100_43_2468135790_11_20191110102233.CSV").unwrap_err();
        assert!(matches!(&err, NameError::Shape(m) if m.contains("年月はありません")), "{err:?}");
        assert!(matches!(
            FileName::parse("UPKIHON_000000_123456789_43_2468135790_11_20191110102233.CSV"),
            Err(NameError::Shape(_))
        ));
        assert_eq!(
            FileName::parse("UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0001.CSV"),
            Err(NameError::ImageExtension)
        );
        assert_eq!(
            FileName::parse("UPKIHON_0300000100_43_0300000005_11_20191025200201.JPG"),
            Err(NameError::Extension)
        );
        assert!(matches!(
            FileName::parse("UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201.JPG"),
            Err(NameError::Shape(m)) if m.contains("枝番")
        ));
        assert!(matches!(
            FileName::parse("UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_01.JPG"),
            Err(NameError::Shape(_))
        ));
        assert!(matches!(
            FileName::parse("UPKIHON_SUB3_0300000100_43_0300000005_11_20191025200201.CSV"),
            Err(NameError::Shape(_))
        ));
    }

    #[test]
    fn older_and_broken_names_are_refused_with_the_reason() {
        assert_eq!(
            FileName::parse("UP1KYO_0300000100_0300000005_20191025200201.CSV"),
            Err(NameError::Version3)
        );
        assert_eq!(
            FileName::parse("UP1KYO_0300000100_43_0300000005_11_20191025200201.txt"),
            Err(NameError::Extension)
        );
        // The layout's file names end in upper-case .CSV (issue 10, item 12).
        assert_eq!(
            FileName::parse("UP1KYO_0300000100_43_0300000005_11_20191025200201.csv"),
            Err(NameError::Extension)
        );
        assert!(matches!(
            FileName::parse("UPKAIGO_0300000100_43_0300000005_11_20191025200201.CSV"),
            Err(NameError::UnknownPrefix(_))
        ));
        assert!(matches!(
            FileName::parse("UPPLAN_0300000100_43_0300000005_11_20191025200201.CSV"),
            Err(NameError::Shape(_))
        ));
        assert!(matches!(
            FileName::parse("UP1KYO_0300000100_43_0300000005_11_20191325200201.CSV"),
            Err(NameError::Shape(_))
        ));
        assert!(matches!(
            FileName::parse("UP1KYO_030000010_43_0300000005_11_20191025200201.CSV"),
            Err(NameError::Shape(_))
        ));
        assert!(matches!(FileName::parse(""), Err(NameError::Extension)));
        for kind in ["2Z", "A9", "A0", "AA", "2a", "a3", "1", "Af"] {
            let name = format!("UPPLAN_201912_0300000100_43_0300000005_{kind}_20191025200201.CSV");
            assert_eq!(
                FileName::parse(&name),
                Err(NameError::Shape("サービス種類コードは2桁の数字か、2A・2B・A1～A8・AF です".into())),
                "{kind}"
            );
        }
        assert!(matches!(FileName::parse(".CSV"), Err(NameError::UnknownPrefix(_))));
    }
}
