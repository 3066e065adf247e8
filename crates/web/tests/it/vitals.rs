//! The vitals chart over HTTP (D5): the period chosen with `?period=`, blood pressure as one
//! chart, the reference bands, and the table.

use crate::both;
use crate::helpers::*;
use crate::rooms::{post, team};

both!(the_vitals_page_shows_the_period_asked_for);

const DAY_MS: i64 = 86_400_000;

/// Moves the post whose text is `body` `days` back in time, as if written then.
async fn backdate(app: &TestApp, body: &str, days: i64) {
    let sql =
        format!("UPDATE posts SET created_at_ms = created_at_ms - {} WHERE body = '{body}'", days * DAY_MS);
    assert_eq!(app.raw.execute(&sql, &sql).await, 1);
}

fn rows(page: &Page) -> usize {
    page.body.matches("<td class=\"when\">").count()
}

async fn the_vitals_page_shows_the_period_asked_for(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    for (body, systolic, diastolic, spo2) in
        [("二か月前", "118", "70", "88"), ("二十日前", "126", "74", "95"), ("今朝", "152", "94", "97")]
    {
        post(
            &t.a,
            room,
            &[
                ("category", "vitals"),
                ("body", body),
                ("systolic", systolic),
                ("diastolic", diastolic),
                ("spo2", spo2),
            ],
        )
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    }
    backdate(&app, "二か月前", 60).await;
    backdate(&app, "二十日前", 20).await;
    let path = format!("/rooms/{room}/vitals");

    // A month unless asked otherwise: today's and the reading of 20 days ago.
    let month = t.b.get(&path).await.expect_status(200);
    assert_eq!(rows(&month), 2, "{}", month.body);
    assert!(month.body.contains("aria-current=\"page\">1か月</a>"));
    // Blood pressure is one chart, with its legend, its two series and both bands (74–152).
    assert_eq!(month.body.matches("<figcaption><strong>血圧</strong>").count(), 1);
    assert!(month.body.contains("最新 152/94 mmHg"));
    assert!(month.body.contains(">上（収縮期）</text>") && month.body.contains(">下（拡張期）</text>"));
    assert!(month.body.contains("上 ≥140") && month.body.contains("下 ≥90"));
    // SpO2 95–97 does not reach the < 90 band within the month.
    assert!(!month.body.contains(">&lt;90</text>"));

    let week = t.b.get(&format!("{path}?period=week")).await.expect_status(200);
    assert_eq!(rows(&week), 1, "only this morning's reading is within a week");
    assert!(week.body.contains("aria-current=\"page\">1週間</a>"));

    let quarter = t.b.get(&format!("{path}?period=quarter")).await.expect_status(200);
    assert_eq!(rows(&quarter), 3);
    assert!(quarter.body.contains(">&lt;90</text>"), "SpO2 88 two months ago shows the band");

    // Nothing else is an error: an unknown or repeated period is the default month.
    for odd in ["?period=year", "?period=", "?period=%FF", "?period=week&period=month", "?x"] {
        let page = t.b.get(&format!("{path}{odd}")).await.expect_status(200);
        assert!(rows(&page) >= 1, "{odd}");
    }
    let odd = t.b.get(&format!("{path}?period=year")).await;
    assert_eq!(rows(&odd), 2);

    // A week without readings says so.
    backdate(&app, "今朝", 10).await;
    let empty = t.b.get(&format!("{path}?period=week")).await.expect_status(200);
    assert!(empty.body.contains("この期間のバイタルの記録はありません。"));
    assert_eq!(rows(&empty), 0);
}
