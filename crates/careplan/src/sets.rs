//! Transmission sets (仕様 2.4, 2.5, 3.4, 3.5): the files of one transmission share a 14-digit
//! stamp and together form one unit — six on the 居宅 side, and on the 介護予防 side 利用者基本情報,
//! 介護予防サービス・支援計画書 with or without it, and their deletions (3.4's サービス利用票・実績
//! units are the 居宅 ones); units are applied in stamp order.

use std::collections::BTreeMap;

use crate::layout::Kind;
use crate::name::{FileName, Office};

const ALL_SET_KINDS: [SetKind; 11] = [
    SetKind::Plan,
    SetKind::Provision,
    SetKind::PlanDeletion,
    SetKind::ProvisionDeletion,
    SetKind::Actual,
    SetKind::ActualDeletion,
    SetKind::Kihon,
    SetKind::YoboKihon,
    SetKind::Yobo,
    SetKind::KihonDeletion,
    SetKind::YoboDeletion,
];

/// The units of the 居宅 interface (2.4) and of the 介護予防 interface (3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetKind {
    /// 計画書第1表・第2表・第3表・利用者補足情報 (居宅介護支援事業所 → サービス事業所)
    Plan,
    /// 第6表・第7表・利用者補足情報
    Provision,
    /// 計画書第1表_削除 (removes 第2表 and 第3表 with it)
    PlanDeletion,
    /// 第6表_削除 (removes 第7表 with it)
    ProvisionDeletion,
    /// 実績情報 (サービス事業所 → 居宅介護支援事業所)
    Actual,
    /// 実績情報_削除
    ActualDeletion,
    /// 3.4 (1) 利用者基本情報, with its 別表1, 別表2 and 家族構成画像 (3.3: 「合わせて送付する」).
    Kihon,
    /// 3.4 (2) 介護予防サービス・支援計画書 and 利用者基本情報, each with what travels with it.
    YoboKihon,
    /// 3.4 (3) 介護予防サービス・支援計画書, with its 別表.
    Yobo,
    /// 3.4 (5) 利用者基本情報_削除 (removes 別表1・別表2・家族構成画像 with it).
    KihonDeletion,
    /// 3.4 (6) 介護予防サービス・支援計画書_削除 (removes its 別表 with it).
    YoboDeletion,
}

impl SetKind {
    /// The kinds a set may hold, main file first; all of them but the
    /// [`optional`](SetKind::is_optional) ones must be there.
    pub fn members(self) -> &'static [Kind] {
        match self {
            SetKind::Plan => &[Kind::Up1kyo, Kind::Up2kyo, Kind::Up3kyo, Kind::Uphosoku],
            SetKind::Provision => &[Kind::Upplan, Kind::Upsikyu, Kind::Uphosoku],
            SetKind::PlanDeletion => &[Kind::Dlt1kyo],
            SetKind::ProvisionDeletion => &[Kind::Dltplan],
            SetKind::Actual => &[Kind::Upjsk],
            SetKind::ActualDeletion => &[Kind::Dltjsk],
            SetKind::Kihon => &[Kind::Upkihon, Kind::UpkihonSub1, Kind::UpkihonSub2, Kind::UpkihonImage],
            SetKind::YoboKihon => &[
                Kind::Upyobo,
                Kind::UpyoboSub,
                Kind::Upkihon,
                Kind::UpkihonSub1,
                Kind::UpkihonSub2,
                Kind::UpkihonImage,
            ],
            SetKind::Yobo => &[Kind::Upyobo, Kind::UpyoboSub],
            SetKind::KihonDeletion => &[Kind::Dltkihon],
            SetKind::YoboDeletion => &[Kind::Dltyobo],
        }
    }

    /// Whether a set may lack files of this kind. The 別表 and the image travel with their main
    /// file but are not required: 3.2 marks only 利用者基本情報 and 介護予防サービス・支援計画書
    /// as 必須, the layout says 「1ファイルの別表…を原則とする」, and the image exists only where
    /// a record names one in 家族構成 画像ファイル名.
    pub fn is_optional(self, kind: Kind) -> bool {
        matches!(kind, Kind::UpkihonSub1 | Kind::UpkihonSub2 | Kind::UpkihonImage | Kind::UpyoboSub)
    }

    /// Whether a set may hold several files of this kind: the images, one per record
    /// (枝番 0001, 0002 …).
    pub fn may_repeat(kind: Kind) -> bool {
        kind.is_image()
    }

    /// The code a set kind is stored under.
    pub fn code(self) -> &'static str {
        match self {
            SetKind::Plan => "plan",
            SetKind::Provision => "provision",
            SetKind::PlanDeletion => "plan_deletion",
            SetKind::ProvisionDeletion => "provision_deletion",
            SetKind::Actual => "actual",
            SetKind::ActualDeletion => "actual_deletion",
            SetKind::Kihon => "kihon",
            SetKind::YoboKihon => "yobo_kihon",
            SetKind::Yobo => "yobo",
            SetKind::KihonDeletion => "kihon_deletion",
            SetKind::YoboDeletion => "yobo_deletion",
        }
    }

    pub fn from_code(code: &str) -> Option<SetKind> {
        ALL_SET_KINDS.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            SetKind::Plan => "居宅サービス計画書（第1表・第2表・第3表・利用者補足情報）",
            SetKind::Provision => "サービス利用票（第6表・第7表・利用者補足情報）",
            SetKind::PlanDeletion => "居宅サービス計画書の削除",
            SetKind::ProvisionDeletion => "サービス利用票の削除",
            SetKind::Actual => "実績情報",
            SetKind::ActualDeletion => "実績情報の削除",
            SetKind::Kihon => "利用者基本情報（別表1・別表2・家族構成画像）",
            SetKind::YoboKihon => "介護予防サービス・支援計画書（別表）・利用者基本情報",
            SetKind::Yobo => "介護予防サービス・支援計画書（別表）",
            SetKind::KihonDeletion => "利用者基本情報の削除",
            SetKind::YoboDeletion => "介護予防サービス・支援計画書の削除",
        }
    }

    /// The unit a file belongs to. 利用者補足情報 goes with the plan when its month is
    /// `000000`, with the 第6・7表 otherwise. 利用者基本情報 files give [`SetKind::Kihon`] and
    /// 介護予防サービス・支援計画書 files [`SetKind::Yobo`]; [`group`] joins the two under one
    /// stamp into [`SetKind::YoboKihon`].
    pub fn of(name: &FileName) -> SetKind {
        match name.kind {
            Kind::Up1kyo | Kind::Up2kyo | Kind::Up3kyo => SetKind::Plan,
            Kind::Uphosoku if name.month.as_deref() == Some("000000") => SetKind::Plan,
            Kind::Uphosoku | Kind::Upplan | Kind::Upsikyu => SetKind::Provision,
            Kind::Dlt1kyo => SetKind::PlanDeletion,
            Kind::Dltplan => SetKind::ProvisionDeletion,
            Kind::Upjsk => SetKind::Actual,
            Kind::Dltjsk => SetKind::ActualDeletion,
            Kind::Upkihon | Kind::UpkihonSub1 | Kind::UpkihonSub2 | Kind::UpkihonImage => SetKind::Kihon,
            Kind::Upyobo | Kind::UpyoboSub => SetKind::Yobo,
            Kind::Dltkihon => SetKind::KihonDeletion,
            Kind::Dltyobo => SetKind::YoboDeletion,
        }
    }
}

/// Which file of a unit depends on which (仕様 2.3 and 3.3): in a unit of `set`, every person of
/// the `dependent` kind, with the value of `key`, has a record in the `parent` kind. 「計画書１表を
/// 基本とし計画書２表、計画書３表及び利用者補足情報を従属情報とする」; 「サービス利用票を基本と
/// しサービス利用票別表、利用者補足情報を従属情報とする」.
pub const DEPENDENCIES: &[Dependency] = &[
    Dependency { set: SetKind::Plan, dependent: Kind::Up2kyo, parent: Kind::Up1kyo, key: PLAN_DATE },
    Dependency { set: SetKind::Plan, dependent: Kind::Up3kyo, parent: Kind::Up1kyo, key: PLAN_DATE },
    Dependency { set: SetKind::Plan, dependent: Kind::Uphosoku, parent: Kind::Up1kyo, key: PLAN_DATE },
    Dependency { set: SetKind::Provision, dependent: Kind::Upsikyu, parent: Kind::Upplan, key: MONTH },
    Dependency { set: SetKind::Provision, dependent: Kind::Uphosoku, parent: Kind::Upplan, key: MONTH },
    // 介護予防 (3.3): 別表1・別表2 hang on the 利用者基本情報, the 別表 on the 支援計画書.
    Dependency { set: SetKind::Kihon, dependent: Kind::UpkihonSub1, parent: Kind::Upkihon, key: CONSULTED },
    Dependency { set: SetKind::Kihon, dependent: Kind::UpkihonSub2, parent: Kind::Upkihon, key: CONSULTED },
    Dependency {
        set: SetKind::YoboKihon,
        dependent: Kind::UpkihonSub1,
        parent: Kind::Upkihon,
        key: CONSULTED,
    },
    Dependency {
        set: SetKind::YoboKihon,
        dependent: Kind::UpkihonSub2,
        parent: Kind::Upkihon,
        key: CONSULTED,
    },
    Dependency {
        set: SetKind::YoboKihon,
        dependent: Kind::UpyoboSub,
        parent: Kind::Upyobo,
        key: YOBO_PLAN_DATE,
    },
    Dependency { set: SetKind::Yobo, dependent: Kind::UpyoboSub, parent: Kind::Upyobo, key: YOBO_PLAN_DATE },
];

const PLAN_DATE: &str = "居宅サービス計画作成（変更）日";
const MONTH: &str = "対象年月";
const CONSULTED: &str = "相談日";
/// 介護予防サービス・支援計画書 writes it with half-width parentheses.
const YOBO_PLAN_DATE: &str = "計画作成(変更)日";

/// One line of [`DEPENDENCIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependency {
    pub set: SetKind,
    pub dependent: Kind,
    pub parent: Kind,
    /// The item that ties a person's records together, besides 保険者番号 and 被保険者番号.
    pub key: &'static str,
}

/// The files of one transmission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission {
    pub stamp: String,
    pub sender: Office,
    pub receiver: Office,
    pub kind: SetKind,
    /// In the order of [`SetKind::members`].
    pub files: Vec<FileName>,
    /// Why the set cannot be applied; empty when it is complete.
    pub problems: Vec<String>,
}

impl Transmission {
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Groups files into transmissions by stamp, sender and receiver, checks that each is one
/// complete unit, and returns them in the order they are to be applied (stamp order).
pub fn group(names: impl IntoIterator<Item = FileName>) -> Vec<Transmission> {
    let mut by_stamp: BTreeMap<(String, Office, Office), Vec<FileName>> = BTreeMap::new();
    for name in names {
        by_stamp
            .entry((name.stamp.clone(), name.sender.clone(), name.receiver.clone()))
            .or_default()
            .push(name);
    }
    by_stamp
        .into_iter()
        .flat_map(|((stamp, sender, receiver), files)| {
            // Files of different units under one stamp: report each unit on its own.
            let mut units: Vec<(SetKind, Vec<FileName>)> = Vec::new();
            for file in files {
                let kind = SetKind::of(&file);
                match units.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, files)) => files.push(file),
                    None => units.push((kind, vec![file])),
                }
            }
            // 3.4 (2): a 介護予防サービス・支援計画書 with a 利用者基本情報 is one unit.
            if let Some(kihon) = units.iter().position(|(k, _)| *k == SetKind::Kihon)
                && let Some(yobo) = units.iter().position(|(k, _)| *k == SetKind::Yobo)
            {
                let (_, files) = units.remove(kihon);
                let yobo = if kihon < yobo { yobo - 1 } else { yobo };
                units[yobo].0 = SetKind::YoboKihon;
                units[yobo].1.extend(files);
            }
            let mixed = units.len() > 1;
            units.into_iter().map(move |(kind, mut files)| {
                let mut problems = Vec::new();
                if mixed {
                    problems.push(format!("連番 {stamp} に別の送信単位のファイルが混在しています"));
                }
                for member in kind.members() {
                    match files.iter().filter(|f| f.kind == *member).count() {
                        0 if kind.is_optional(*member) => {}
                        0 => problems.push(format!("{} がありません（{}）", member.prefix(), kind.label())),
                        1 => {}
                        _ if SetKind::may_repeat(*member) => {}
                        n => problems.push(format!("{} が{n}つあります", member.prefix())),
                    }
                }
                let mut branches: Vec<&str> = files.iter().filter_map(|f| f.branch.as_deref()).collect();
                branches.sort_unstable();
                let mut twice: Vec<&str> =
                    branches.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
                twice.dedup();
                for branch in twice {
                    problems.push(format!("家族構成画像の枝番 {branch} が2つ以上あります"));
                }
                let months: Vec<_> = files.iter().filter_map(|f| f.month.as_deref()).collect();
                if kind == SetKind::Provision && months.windows(2).any(|w| w[0] != w[1]) {
                    problems.push("第6表・第7表・利用者補足情報の年月が揃っていません".into());
                }
                files.sort_by_key(|f| (kind.members().iter().position(|k| *k == f.kind), f.branch.clone()));
                Transmission {
                    stamp: stamp.clone(),
                    sender: sender.clone(),
                    receiver: receiver.clone(),
                    kind,
                    files,
                    problems,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<FileName> {
        list.iter().map(|n| FileName::parse(n).unwrap()).collect()
    }

    #[test]
    fn sets_are_grouped_by_stamp_checked_and_ordered() {
        let sets = group(names(&[
            "UPPLAN_201912_0300000100_43_0300000005_11_20191110112547.CSV",
            "UP2KYO_0300000100_43_0300000005_11_20191110102233.CSV",
            "UPHOSOKU_201912_0300000100_43_0300000005_11_20191110112547.CSV",
            "UP1KYO_0300000100_43_0300000005_11_20191110102233.CSV",
            "UPHOSOKU_000000_0300000100_43_0300000005_11_20191110102233.CSV",
            "UP3KYO_0300000100_43_0300000005_11_20191110102233.CSV",
            "UPSIKYU_201912_0300000100_43_0300000005_11_20191110112547.CSV",
            "DLT1KYO_0300000100_43_0300000005_11_20191110112933.CSV",
        ]));
        let kinds: Vec<_> = sets.iter().map(|s| (s.stamp.as_str(), s.kind, s.is_complete())).collect();
        assert_eq!(
            kinds,
            [
                ("20191110102233", SetKind::Plan, true),
                ("20191110112547", SetKind::Provision, true),
                ("20191110112933", SetKind::PlanDeletion, true)
            ]
        );
        let plan: Vec<_> = sets[0].files.iter().map(|f| f.kind).collect();
        assert_eq!(plan, [Kind::Up1kyo, Kind::Up2kyo, Kind::Up3kyo, Kind::Uphosoku]);
    }

    #[test]
    fn incomplete_and_mixed_sets_say_what_is_wrong() {
        let sets = group(names(&[
            "UP1KYO_0300000100_43_0300000005_11_20191110102233.CSV",
            "UP2KYO_0300000100_43_0300000005_11_20191110102233.CSV",
            "DLTPLAN_201912_0300000100_43_0300000005_11_20191110102233.CSV",
        ]));
        assert_eq!(sets.len(), 2);
        assert!(sets[0].problems.iter().any(|p| p.contains("UP3KYO がありません")), "{:?}", sets[0].problems);
        assert!(sets[0].problems.iter().any(|p| p.contains("UPHOSOKU がありません")));
        assert!(sets.iter().all(|s| s.problems.iter().any(|p| p.contains("混在"))));
    }

    /// 仕様 3.4 (1)–(3), (5), (6): the 介護予防 units, the 別表 and images travelling with their
    /// main file, a plan with a 利用者基本情報 under one stamp being one unit.
    #[test]
    fn yobo_units() {
        let sets = group(names(&[
            "UPKIHON_IMAGE_0300000100_43_0300000005_A2_20191110102233_0002.JPG",
            "UPKIHON_SUB1_0300000100_43_0300000005_A2_20191110102233.CSV",
            "UPYOBO_SUB_0300000100_43_0300000005_A2_20191110102233.CSV",
            "UPKIHON_0300000100_43_0300000005_A2_20191110102233.CSV",
            "UPYOBO_0300000100_43_0300000005_A2_20191110102233.CSV",
            "UPKIHON_IMAGE_0300000100_43_0300000005_A2_20191110102233_0001.JPG",
            "UPKIHON_0300000100_43_0300000005_A2_20191110112547.CSV",
            "UPYOBO_0300000100_43_0300000005_A2_20191110112933.CSV",
            "DLTYOBO_0300000100_43_0300000005_A2_20191110131235.CSV",
            "DLTKIHON_0300000100_43_0300000005_A2_20191110131236.CSV",
        ]));
        let kinds: Vec<_> = sets.iter().map(|s| (s.kind, s.is_complete())).collect();
        assert_eq!(
            kinds,
            [
                (SetKind::YoboKihon, true),
                (SetKind::Kihon, true),
                (SetKind::Yobo, true),
                (SetKind::YoboDeletion, true),
                (SetKind::KihonDeletion, true)
            ]
        );
        let files: Vec<_> = sets[0].files.iter().map(|f| (f.kind, f.branch.clone())).collect();
        assert_eq!(
            files,
            [
                (Kind::Upyobo, None),
                (Kind::UpyoboSub, None),
                (Kind::Upkihon, None),
                (Kind::UpkihonSub1, None),
                (Kind::UpkihonImage, Some("0001".into())),
                (Kind::UpkihonImage, Some("0002".into())),
            ]
        );
        // A 別表 or an image without its main file is not a unit.
        let sets = group(names(&[
            "UPKIHON_SUB2_0300000100_43_0300000005_A2_20191110102233.CSV",
            "UPYOBO_SUB_0300000100_43_0300000005_A2_20191110102234.CSV",
            "UPKIHON_SUB2_0300000100_43_0300000005_A2_20191110102235.CSV",
            "UPKIHON_SUB2_0300000100_43_0300000005_A2_20191110102235.CSV",
            "UPKIHON_0300000100_43_0300000005_A2_20191110102235.CSV",
        ]));
        assert!(
            sets[0].problems.iter().any(|p| p.contains("UPKIHON がありません")),
            "{:?}",
            sets[0].problems
        );
        assert!(sets[1].problems.iter().any(|p| p.contains("UPYOBO がありません")));
        assert!(sets[2].problems.iter().any(|p| p.contains("UPKIHON_SUB2 が2つあります")));
        let image = "UPKIHON_IMAGE_0300000100_43_0300000005_A2_20191110102233_0001";
        let sets = group(names(&[
            "UPKIHON_0300000100_43_0300000005_A2_20191110102233.CSV",
            &format!("{image}.JPG"),
            &format!("{image}.jpg"),
        ]));
        assert_eq!(sets[0].problems, ["家族構成画像の枝番 0001 が2つ以上あります"]);
        for kind in ALL_SET_KINDS {
            assert_eq!(SetKind::from_code(kind.code()), Some(kind));
        }
    }
}
