//! Vital-sign charts (D5, I4) drawn on the server as small SVGs: one per measure, readable on a
//! phone, no JavaScript. Every text in them is a number or a fixed label.

use renraku_domain::rooms::{VITALS, format_scaled};
use renraku_domain::time_jp::to_jst;
use renraku_store::VitalsPoint;

const W: f64 = 320.0;
const H: f64 = 140.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;

/// One chart per vital sign that has at least one value, as (label, SVG markup).
pub fn vitals_charts(points: &[VitalsPoint]) -> Vec<(&'static str, String)> {
    VITALS
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| {
            let series: Vec<(i64, i64)> =
                points.iter().filter_map(|p| p.vitals.values()[i].map(|v| (p.at_ms, v))).collect();
            (!series.is_empty()).then(|| (spec.label, chart(&series, spec.decimals, spec.unit)))
        })
        .collect()
}

fn chart(series: &[(i64, i64)], decimals: u32, unit: &str) -> String {
    let (t0, t1) = (series[0].0, series[series.len() - 1].0);
    let lo = series.iter().map(|p| p.1).min().unwrap_or(0);
    let hi = series.iter().map(|p| p.1).max().unwrap_or(0);
    let pad = ((hi - lo) / 10).max(1);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |t: i64| {
        if t1 == t0 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (t - t0) as f64 / (t1 - t0) as f64 * (W - LEFT - RIGHT)
        }
    };
    let y = |v: i64| TOP + (hi - v) as f64 / (hi - lo) as f64 * (H - TOP - BOTTOM);
    let path: Vec<String> = series.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
    let dots: String = series
        .iter()
        .map(|(t, v)| format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>", x(*t), y(*v)))
        .collect();
    let day = |ms: i64| {
        let d = to_jst(ms);
        format!("{}/{}", u8::from(d.month()), d.day())
    };
    let last = series[series.len() - 1].1;
    format!(
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"最新 {latest}{unit}\" xmlns=\"http://www.w3.org/2000/svg\">\
<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{base}\" class=\"axis\"/>\
<line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" class=\"axis\"/>\
<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{hi_label}</text>\
<text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\">{lo_label}</text>\
<text x=\"{LEFT}\" y=\"{dy}\">{first_day}</text>\
<text x=\"{right}\" y=\"{dy}\" text-anchor=\"end\">{last_day}</text>\
<polyline points=\"{points}\" fill=\"none\"/>{dots}</svg>",
        latest = format_scaled(last, decimals),
        base = H - BOTTOM,
        right = W - RIGHT,
        lx = LEFT - 4.0,
        ty = TOP + 4.0,
        dy = H - 6.0,
        hi_label = format_scaled(hi, decimals),
        lo_label = format_scaled(lo, decimals),
        first_day = day(t0),
        last_day = day(t1),
        points = path.join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use renraku_domain::rooms::Vitals;

    #[test]
    fn a_chart_is_drawn_for_each_measure_with_data() {
        let points = vec![
            VitalsPoint {
                at_ms: 1_795_000_000_000,
                vitals: Vitals { temperature_tenths: Some(368), ..Vitals::default() },
            },
            VitalsPoint {
                at_ms: 1_795_086_400_000,
                vitals: Vitals { temperature_tenths: Some(379), spo2: Some(95), ..Vitals::default() },
            },
        ];
        let charts = vitals_charts(&points);
        assert_eq!(charts.iter().map(|c| c.0).collect::<Vec<_>>(), ["体温", "SpO2"]);
        assert!(charts[0].1.contains("最新 37.9℃"));
        assert_eq!(charts[0].1.matches("<circle").count(), 2);
        assert!(charts[0].1.starts_with("<svg") && charts[0].1.ends_with("</svg>"));
    }
}
