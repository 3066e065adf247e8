//! Vital-sign charts (D5, I4) drawn on the server as small SVGs, no JavaScript: blood pressure
//! as one chart (上 and 下 with a legend), one chart for each other measure with data. The y axis
//! spans the data's own range rounded out to 1-2-5 ticks; the x axis is the chosen period in JST
//! with day ticks; the ranges a nurse watches (SpO2 < 90, 体温 ≥ 37.5, 収縮期 ≥ 140, 拡張期 ≥ 90,
//! 脈拍 < 50 or > 100) are shaded. Every text in them is a number or a fixed label.

use renraku_domain::rooms::{VITALS, format_scaled};
use renraku_domain::time_jp::{format_datetime, to_jst};
use renraku_store::VitalsPoint;

/// The drawing's own units; the SVG scales to its box, and at a phone's width one unit is about
/// one CSS pixel, so the 12-unit text stays legible.
const W: i64 = 360;
const H: i64 = 210;
const LEFT: i64 = 42;
const RIGHT: i64 = 10;
const TOP: i64 = 26;
const BOTTOM: i64 = 24;
const DAY_MS: i64 = 86_400_000;
const JST_MS: i64 = 9 * 3_600_000;
/// At most this many intervals between the y axis's ticks.
const MAX_Y_INTERVALS: i64 = 5;

/// A range of values shaded as needing attention, in the measure's scaled units: `lo ≤ v < hi`.
struct Band {
    lo: i64,
    hi: i64,
    label: &'static str,
    /// Shaded, or only its edge drawn (下 ≥ 90 would shade 上's normal range).
    shade: bool,
}

/// One chart: which measures (indexes into [`VITALS`]) it draws, with their legend names.
struct ChartSpec {
    title: &'static str,
    series: &'static [(usize, &'static str)],
    /// The smallest span of the y axis, so a flat series is not magnified into noise.
    min_span: i64,
    bands: &'static [Band],
}

const CHARTS: [ChartSpec; 7] = [
    ChartSpec {
        title: "血圧",
        series: &[(0, "上（収縮期）"), (1, "下（拡張期）")],
        min_span: 20,
        bands: &[
            Band { lo: 140, hi: i64::MAX, label: "上 ≥140", shade: true },
            Band { lo: 90, hi: i64::MAX, label: "下 ≥90", shade: false },
        ],
    },
    ChartSpec {
        title: "脈拍",
        series: &[(2, "脈拍")],
        min_span: 10,
        bands: &[
            Band { lo: i64::MIN, hi: 50, label: "&lt;50", shade: true },
            Band { lo: 101, hi: i64::MAX, label: "&gt;100", shade: true },
        ],
    },
    ChartSpec {
        title: "体温",
        series: &[(3, "体温")],
        min_span: 5,
        bands: &[Band { lo: 375, hi: i64::MAX, label: "≥37.5", shade: true }],
    },
    ChartSpec {
        title: "SpO2",
        series: &[(4, "SpO2")],
        min_span: 4,
        bands: &[Band { lo: i64::MIN, hi: 90, label: "&lt;90", shade: true }],
    },
    ChartSpec { title: "呼吸数", series: &[(5, "呼吸数")], min_span: 4, bands: &[] },
    ChartSpec { title: "体重", series: &[(6, "体重")], min_span: 10, bands: &[] },
    ChartSpec { title: "血糖", series: &[(7, "血糖")], min_span: 20, bands: &[] },
];

/// A drawn chart for the page.
pub struct VitalsChart {
    pub title: &'static str,
    /// The latest values with their unit and time, `132/78 mmHg（2026年12月3日 14:30）`.
    pub latest: String,
    pub svg: String,
}

/// The step between ticks: the smallest of 1, 2, 5, 10, 20, 50, … (in scaled units) that covers
/// `lo..=hi` with at most `max_intervals` intervals once both ends are rounded out to it.
pub fn nice_step(lo: i64, hi: i64, max_intervals: i64) -> i64 {
    let mut magnitude = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let step = m * magnitude;
            let intervals = ceil_to(hi, step) / step - floor_to(lo, step) / step;
            if intervals <= max_intervals {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

fn floor_to(v: i64, step: i64) -> i64 {
    v.div_euclid(step) * step
}

fn ceil_to(v: i64, step: i64) -> i64 {
    -floor_to(-v, step)
}

/// The y axis for values from `lo` to `hi`: widened around them to `min_span` when narrower,
/// rounded out to a 1-2-5 step; `(axis low, axis high, step)`, all in scaled units.
pub fn y_axis(lo: i64, hi: i64, min_span: i64) -> (i64, i64, i64) {
    let (mut lo, mut hi) = (lo.min(hi), lo.max(hi));
    if hi - lo < min_span {
        let extra = min_span - (hi - lo);
        lo -= extra / 2;
        hi += extra - extra / 2;
    }
    let step = nice_step(lo, hi, MAX_Y_INTERVALS);
    (floor_to(lo, step), ceil_to(hi, step), step)
}

/// The x axis's ticks between `from_ms` and `to_ms`: JST midnights, every day for a period of up
/// to 10 days, every Monday up to 40 days, every other Monday beyond.
pub fn day_ticks(from_ms: i64, to_ms: i64) -> Vec<i64> {
    let span_days = (to_ms - from_ms) / DAY_MS;
    let every = match span_days {
        ..=10 => 1,
        11..=40 => 7,
        _ => 14,
    };
    let first_day = (from_ms + JST_MS + DAY_MS - 1).div_euclid(DAY_MS);
    let last_day = (to_ms + JST_MS).div_euclid(DAY_MS);
    // Day 0 (1970-01-01) was a Thursday: day + 3 is a multiple of 7 on Mondays.
    (first_day..=last_day)
        .filter(|d| every == 1 || (d + 3).rem_euclid(every) == 0)
        .map(|d| d * DAY_MS - JST_MS)
        .collect()
}

/// The charts of the measures that have a value between `from_ms` and `to_ms`.
pub fn vitals_charts(points: &[VitalsPoint], from_ms: i64, to_ms: i64) -> Vec<VitalsChart> {
    let points: Vec<&VitalsPoint> = points.iter().filter(|p| (from_ms..=to_ms).contains(&p.at_ms)).collect();
    CHARTS
        .iter()
        .filter_map(|spec| {
            let series: Vec<Vec<(i64, i64)>> = spec
                .series
                .iter()
                .map(|(i, _)| {
                    points.iter().filter_map(|p| p.vitals.values()[*i].map(|v| (p.at_ms, v))).collect()
                })
                .collect();
            series.iter().any(|s| !s.is_empty()).then(|| draw(spec, &series, &points, from_ms, to_ms))
        })
        .collect()
}

fn draw(
    spec: &ChartSpec,
    series: &[Vec<(i64, i64)>],
    points: &[&VitalsPoint],
    from_ms: i64,
    to_ms: i64,
) -> VitalsChart {
    let first = &VITALS[spec.series[0].0];
    let (decimals, unit) = (first.decimals, first.unit);
    let all = series.iter().flatten().map(|p| p.1);
    let (lo, hi) = (all.clone().min().unwrap_or(0), all.max().unwrap_or(0));
    let (y_lo, y_hi, step) = y_axis(lo, hi, spec.min_span);
    let (plot_l, plot_r, plot_t, plot_b) = (LEFT as f64, (W - RIGHT) as f64, TOP as f64, (H - BOTTOM) as f64);
    let x = |t: i64| {
        let span = (to_ms - from_ms).max(1) as f64;
        plot_l + (t - from_ms) as f64 / span * (plot_r - plot_l)
    };
    let y = |v: i64| plot_t + (y_hi - v) as f64 / (y_hi - y_lo) as f64 * (plot_b - plot_t);
    let mut svg = String::new();
    // Reference bands, clipped to the axis: the shading under everything, the edge and its label
    // (inside the band) over the series, so a reading never hides them.
    let mut edges = String::new();
    for band in spec.bands {
        let (b_lo, b_hi) = (band.lo.max(y_lo), band.hi.min(y_hi));
        if b_lo >= b_hi {
            continue;
        }
        let (top, bottom) = (y(b_hi), y(b_lo));
        if band.shade {
            svg += &format!(
                "<rect class=\"band\" x=\"{plot_l}\" y=\"{top:.1}\" width=\"{w}\" height=\"{h:.1}\"/>",
                w = plot_r - plot_l,
                h = bottom - top,
            );
        }
        let (edge, ty) = if band.hi == i64::MAX { (bottom, bottom - 3.0) } else { (top, top + 12.0) };
        edges += &format!(
            "<line class=\"band-edge\" x1=\"{plot_l}\" y1=\"{edge:.1}\" x2=\"{plot_r}\" y2=\"{edge:.1}\"/>\
<text class=\"band-label\" x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            lx = plot_r - 2.0,
            label = band.label,
        );
    }
    // Y ticks with grid lines.
    let mut v = y_lo;
    while v <= y_hi {
        svg += &format!(
            "<line class=\"grid\" x1=\"{plot_l}\" y1=\"{yy:.1}\" x2=\"{plot_r}\" y2=\"{yy:.1}\"/>\
<text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            yy = y(v),
            lx = plot_l - 4.0,
            ty = y(v) + 4.0,
            label = format_scaled(v, decimals),
        );
        v += step;
    }
    // X ticks at JST midnights.
    for t in day_ticks(from_ms, to_ms) {
        let d = to_jst(t);
        svg += &format!(
            "<line class=\"grid\" x1=\"{xx:.1}\" y1=\"{plot_t}\" x2=\"{xx:.1}\" y2=\"{plot_b}\"/>\
<text x=\"{xx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{m}/{day}</text>",
            xx = x(t),
            ty = H - 8,
            m = u8::from(d.month()),
            day = d.day(),
        );
    }
    svg += &format!(
        "<line class=\"axis\" x1=\"{plot_l}\" y1=\"{plot_t}\" x2=\"{plot_l}\" y2=\"{plot_b}\"/>\
<line class=\"axis\" x1=\"{plot_l}\" y1=\"{plot_b}\" x2=\"{plot_r}\" y2=\"{plot_b}\"/>\
<text x=\"4\" y=\"14\">{unit}</text>"
    );
    // The series: a line and a mark per value (a circle for the first, a square for the second,
    // so they differ without colour), each with its time and value as a tooltip.
    for (n, (s, (_, name))) in series.iter().zip(spec.series).enumerate() {
        if s.len() > 1 {
            let path: Vec<String> = s.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
            svg += &format!("<polyline class=\"s{n}\" points=\"{}\" fill=\"none\"/>", path.join(" "));
        }
        for (t, v) in s {
            let tip = format!("{} {name} {}{unit}", format_datetime(*t), format_scaled(*v, decimals));
            let (cx, cy) = (x(*t), y(*v));
            svg += &if n == 0 {
                format!(
                    "<circle class=\"s{n}\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3.5\"><title>{tip}</title></circle>"
                )
            } else {
                format!(
                    "<rect class=\"s{n}\" x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\"><title>{tip}</title></rect>",
                    cx - 3.5,
                    cy - 3.5
                )
            };
        }
    }
    svg += &edges;
    // The legend, for a chart of more than one series.
    if spec.series.len() > 1 {
        let mut lx = W - RIGHT - 200;
        for (n, (_, name)) in spec.series.iter().enumerate() {
            let mark = if n == 0 {
                format!("<circle class=\"s{n}\" cx=\"{}\" cy=\"10\" r=\"3.5\"/>", lx + 8)
            } else {
                format!("<rect class=\"s{n}\" x=\"{}\" y=\"6.5\" width=\"7\" height=\"7\"/>", lx + 4)
            };
            svg += &format!(
                "<line class=\"s{n}\" x1=\"{lx}\" y1=\"10\" x2=\"{x2}\" y2=\"10\"/>{mark}<text x=\"{tx}\" y=\"14\">{name}</text>",
                x2 = lx + 16,
                tx = lx + 20,
            );
            lx += 100;
        }
    }
    let latest_point =
        points.iter().rev().find(|p| spec.series.iter().any(|(i, _)| p.vitals.values()[*i].is_some()));
    let latest = latest_point
        .map(|p| {
            let values: Vec<String> = spec
                .series
                .iter()
                .map(|(i, _)| {
                    p.vitals.values()[*i].map(|v| format_scaled(v, decimals)).unwrap_or_else(|| "—".into())
                })
                .collect();
            format!("{} {unit}（{}）", values.join("/"), format_datetime(p.at_ms))
        })
        .unwrap_or_default();
    let svg = format!(
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{title} 最新 {latest}\" xmlns=\"http://www.w3.org/2000/svg\">{svg}</svg>",
        title = spec.title,
    );
    VitalsChart { title: spec.title, latest, svg }
}

#[cfg(test)]
mod tests {
    use super::*;
    use renraku_domain::rooms::Vitals;

    /// 2026-12-01 00:00 JST.
    const DEC_1: i64 = 1_796_050_800_000;

    fn ticks(lo: i64, hi: i64, min_span: i64) -> Vec<i64> {
        let (a, b, step) = y_axis(lo, hi, min_span);
        (0..).map(|k| a + k * step).take_while(|v| *v <= b).collect()
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0, 5, 5), 1);
        assert_eq!(nice_step(0, 6, 5), 2);
        assert_eq!(nice_step(0, 10, 5), 2);
        assert_eq!(nice_step(0, 11, 5), 5);
        assert_eq!(nice_step(0, 25, 5), 5);
        assert_eq!(nice_step(0, 26, 5), 10);
        assert_eq!(nice_step(118, 162, 5), 20);
        assert_eq!(nice_step(0, 2_300, 5), 500);
        for (lo, hi) in [(1, 2), (37, 981), (-40, 7), (365, 379), (60, 200)] {
            let s = nice_step(lo, hi, 5);
            let m = s / 10_i64.pow(s.ilog10());
            assert!([1, 2, 5].contains(&m), "{s}");
            assert!(ceil_to(hi, s) / s - floor_to(lo, s) / s <= 5, "{lo}..{hi} by {s}");
        }
    }

    #[test]
    fn the_y_axis_spans_the_data_rounded_out_to_its_ticks() {
        // Blood pressure 72–151: 60 to 160 by 20, not a fixed 0–300.
        assert_eq!(ticks(72, 151, 20), [60, 80, 100, 120, 140, 160]);
        // 体温 36.4–37.9 (tenths): 36.0 to 38.0 by 0.5.
        assert_eq!(y_axis(364, 379, 5), (360, 380, 5));
        // SpO2 88–97: 88 to 98 by 2.
        assert_eq!(ticks(88, 97, 4), [88, 90, 92, 94, 96, 98]);
        // One reading (or a flat series) is widened to the chart's smallest span around it.
        assert_eq!(y_axis(365, 365, 5), (363, 368, 1));
        assert_eq!(ticks(130, 130, 20), [120, 125, 130, 135, 140]);
        // The ticks always contain the data.
        for (lo, hi) in [(50, 260), (20, 160), (300, 430), (100, 2500), (97, 97)] {
            let (a, b, _) = y_axis(lo, hi, 4);
            assert!(a <= lo && hi <= b, "{lo}..{hi} within {a}..{b}");
        }
    }

    #[test]
    fn the_x_axis_has_jst_midnights_daily_for_a_week_and_mondays_beyond() {
        let week = day_ticks(DEC_1 - 7 * DAY_MS + 3_600_000, DEC_1 + 3_600_000);
        assert_eq!(week.len(), 7);
        assert_eq!(*week.last().unwrap(), DEC_1);
        assert!(week.iter().all(|t| { to_jst(*t).hour() == 0 && to_jst(*t).minute() == 0 }));
        let month = day_ticks(DEC_1 - 30 * DAY_MS, DEC_1);
        assert!(month.iter().all(|t| to_jst(*t).weekday() == time::Weekday::Monday), "weekly on Mondays");
        assert_eq!(month.len(), 5);
        let quarter = day_ticks(DEC_1 - 90 * DAY_MS, DEC_1);
        assert!(quarter.windows(2).all(|w| w[1] - w[0] == 14 * DAY_MS));
    }

    fn at(day: i64, v: Vitals) -> VitalsPoint {
        VitalsPoint { at_ms: DEC_1 - day * DAY_MS + 10 * 3_600_000, vitals: v }
    }

    #[test]
    fn blood_pressure_is_one_chart_with_a_legend_and_bands() {
        let points = vec![
            at(3, Vitals { systolic: Some(128), diastolic: Some(76), ..Vitals::default() }),
            at(
                1,
                Vitals {
                    systolic: Some(152),
                    diastolic: Some(94),
                    temperature_tenths: Some(379),
                    ..Vitals::default()
                },
            ),
        ];
        let charts = vitals_charts(&points, DEC_1 - 30 * DAY_MS, DEC_1);
        assert_eq!(charts.iter().map(|c| c.title).collect::<Vec<_>>(), ["血圧", "体温"]);
        let bp = &charts[0];
        assert_eq!(bp.latest, "152/94 mmHg（2026年11月30日 10:00）");
        assert!(bp.svg.contains(">上（収縮期）</text>") && bp.svg.contains(">下（拡張期）</text>"), "legend");
        assert_eq!(bp.svg.matches("<polyline").count(), 2, "two series");
        assert!(bp.svg.contains("上 ≥140") && bp.svg.contains("下 ≥90"), "both bands are in range");
        assert!(bp.svg.contains("2026年11月30日 10:00 上（収縮期） 152mmHg"), "tooltip with time");
        // The axis is the data's range (76–152 → 60–160 by 20), with day labels.
        assert!(
            bp.svg.contains(">60</text>") && bp.svg.contains(">160</text>") && !bp.svg.contains(">0</text>")
        );
        assert!(bp.svg.contains(">11/2</text>"), "Mondays on the x axis: {}", bp.svg);
        let temp = &charts[1];
        assert!(temp.svg.contains("≥37.5"));
        assert!(temp.svg.starts_with("<svg") && temp.svg.ends_with("</svg>"));
    }

    #[test]
    fn a_band_outside_the_data_range_is_not_drawn_and_points_outside_the_period_are_left_out() {
        let points = vec![
            at(40, Vitals { spo2: Some(85), ..Vitals::default() }),
            at(2, Vitals { spo2: Some(97), ..Vitals::default() }),
            at(1, Vitals { spo2: Some(96), ..Vitals::default() }),
        ];
        let charts = vitals_charts(&points, DEC_1 - 7 * DAY_MS, DEC_1);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].svg.matches("<circle").count(), 2, "the reading 40 days ago is outside a week");
        assert!(!charts[0].svg.contains("&lt;90"), "94–98 does not reach the band");
        assert!(
            vitals_charts(&points, DEC_1 - 90 * DAY_MS, DEC_1)[0].svg.contains("&lt;90"),
            "85 in 3 months does"
        );
    }
}
