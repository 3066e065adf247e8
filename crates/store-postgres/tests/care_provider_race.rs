//! Several app instances share one PostgreSQL database: two admins (of different
//! municipalities, on different instances) registering the same 介護事業所番号 at the same
//! moment must not both succeed, or the care-plan exchange could no longer route to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{FacilityNumber, MunicipalityCode, Name};
use renraku_store::conformance::{TEST_AUDIT_KEY, sample_facility};
use renraku_store::prelude::*;
use renraku_store::{AuditDraft, MunicipalityId, MunicipalitySettings, NewMunicipality, StoreError};

fn audit(municipality_id: Option<&MunicipalityId>) -> AuditDraft {
    AuditDraft {
        municipality_id: municipality_id.cloned(),
        at_ms: 1_795_000_000_000,
        actor_login: "tester".into(),
        outcome: "ok".into(),
        ..AuditDraft::new(AuditAction::FacilityCreate)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_care_provider_number_leave_one_holder() {
    let (Some(store), ()) = renraku_store_postgres::testing::open_isolated(TEST_AUDIT_KEY).await else {
        return;
    };
    let store = Arc::new(store);
    let mut towns = vec![];
    for code in ["122203", "122173", "122211", "122238"] {
        let new = NewMunicipality {
            code: MunicipalityCode::parse("code", code).unwrap(),
            name: Name::parse("name", "市").unwrap(),
            settings: MunicipalitySettings::default(),
        };
        towns.push(store.create_municipality(&new, &audit(None)).await.unwrap().id);
    }
    for round in 0..20 {
        let number = format!("55555555{round:02}");
        let mut racers = vec![];
        for town in &towns {
            let (store, town, number) = (store.clone(), town.clone(), number.clone());
            racers.push(tokio::spawn(async move {
                let mut info = sample_facility("かしわ訪問看護");
                info.care_provider_no = Some(FacilityNumber::parse("n", &number).unwrap());
                store.create_facility(&town, &info, &audit(Some(&town))).await
            }));
        }
        let mut won = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::Taken("care_provider_no")) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one facility holds {number}");
        assert_eq!(store.facilities_by_care_provider_no(&number).await.unwrap().len(), 1);
    }
}
