//! What an audit entry records as done: one closed list, each with the stable code stored in the
//! audit trail (never changed: the seals cover it) and the Japanese label the audit screen shows.

code_enum!(
    /// An audited action (監査記録の操作).
    AuditAction {
        AccountActivated => "account.activated", "利用開始（アカウントの有効化）";
        AccountUnlock => "account.unlock", "ロックの解除";
        AdminCreate => "admin.create", "管理者の登録";
        // The first entry of every municipality's chain, written in the same transaction as
        // the municipality: a chain that starts otherwise lost its beginning.
        AuditChainOpened => "audit.chain_opened", "監査記録の開始";
        AuditExport => "audit.export", "監査記録の出力";
        AuditReanchored => "audit.reanchored", "監査チェックポイントの作り直し";
        AuthLogin => "auth.login", "ログイン";
        AuthLogout => "auth.logout", "ログアウト";
        AuthPassword => "auth.password", "パスワードの確認";
        AuthPasswordChanged => "auth.password_changed", "パスワードの変更";
        AuthSecondFactor => "auth.second_factor", "二要素認証";
        AuthSessionRevoked => "auth.session_revoked", "セッションの終了";
        AuthSessionsRevoked => "auth.sessions_revoked", "他のセッションの終了";
        AuthTotpEnrolled => "auth.totp_enrolled", "二要素認証の登録";
        BackupCreate => "backup.create", "バックアップの作成";
        BackupRestore => "backup.restore", "バックアップからの復元";
        BenchSeed => "bench.seed", "ベンチマーク用データの作成";
        CareplanAcknowledge => "careplan.acknowledge", "ケアプランの受領確認";
        CareplanDownload => "careplan.download", "ケアプランのファイルの取得";
        CareplanListViewed => "careplan.list_viewed", "ケアプラン一覧の閲覧";
        CareplanRead => "careplan.read", "ケアプランの閲覧";
        CareplanSend => "careplan.send", "ケアプランの送信";
        CareplanUpload => "careplan.upload", "ケアプランの取り込み";
        ConsentWithdraw => "consent.withdraw", "同意の撤回";
        FacilityCreate => "facility.create", "事業所の登録";
        FacilityReleaseCareProviderNo => "facility.release_care_provider_no", "介護事業所番号の解放";
        FacilityUpdate => "facility.update", "事業所の変更";
        FileRead => "file.read", "添付ファイルの閲覧";
        FileThumbnailRead => "file.thumbnail_read", "縮小画像の閲覧";
        MunicipalityCreate => "municipality.create", "市区町村の登録";
        MunicipalityRename => "municipality.rename", "市区町村名の訂正";
        PatientRead => "patient.read", "患者情報の閲覧";
        PostAcknowledge => "post.acknowledge", "投稿の確認";
        PostCreate => "post.create", "投稿";
        PostDelete => "post.delete", "投稿の削除";
        PostEdit => "post.edit", "投稿の編集";
        PostRead => "post.read", "投稿の閲覧";
        PostReply => "post.reply", "返信";
        RoomListViewed => "room.list_viewed", "部屋一覧の閲覧";
        RoomMarkRead => "room.mark_read", "すべて既読";
        RoomMembersRead => "room.members_read", "参加者の閲覧";
        RoomMemberAdd => "room.member_add", "参加者の追加";
        RoomMemberRemove => "room.member_remove", "参加者の削除";
        RoomOpen => "room.open", "部屋の開設";
        RoomOversightRead => "room.oversight_read", "監督閲覧";
        RoomRead => "room.read", "部屋の閲覧";
        RoomRequest => "room.request", "部屋への依頼";
        RoomRequestApprove => "room.request_approve", "依頼の承認";
        RoomRequestReject => "room.request_reject", "依頼の却下";
        RoomRequestListViewed => "room_request.list_viewed", "依頼一覧の閲覧";
        SettingsUpdate => "settings.update", "設定の変更";
        SetupLinkIssued => "setup.link_issued", "初期設定リンクの発行";
        SetupOperatorCreated => "setup.operator_created", "運用者の登録";
        UserCreate => "user.create", "利用者の登録";
        UserDelete => "user.delete", "利用者の削除";
        UserReactivate => "user.reactivate", "利用者の利用再開";
        UserReissueActivation => "user.reissue_activation", "有効化リンクの再発行";
        UserResetSecondFactor => "user.reset_second_factor", "二要素認証のリセット";
        UserSuspend => "user.suspend", "利用者の利用停止";
        UserUpdate => "user.update", "利用者の変更";
        VitalsRead => "vitals.read", "バイタルの閲覧";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_its_own_code_and_is_found_by_it() {
        let mut codes: Vec<&str> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), AuditAction::ALL.len());
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_code(a.code()), Some(*a));
        }
        assert_eq!(AuditAction::from_code("audit.chain_opened"), Some(AuditAction::AuditChainOpened));
    }
}
