//! A server-rendered SVG chart of a volume over time against its usual band (no script, no
//! front-end build). Pure: a series in, an SVG string out.
//!
//! At most [`MAX_POINTS`] points are drawn: longer series are merged into consecutive buckets
//! (the bucket's highest volume, lowest band floor, highest band ceiling), so a spike is never
//! averaged away. Every text (title, labels) is escaped; non-finite or negative numbers count
//! as 0. The chart names itself with a `<title>` and summarises itself in a `<desc>`, so a
//! screen reader gets the story without the picture.

use super::escape_html;
use super::pages::format_ts;

/// Most points drawn.
pub const MAX_POINTS: usize = 168;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// One point of the series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartPoint {
    /// Start of the period (Unix ms).
    pub at: i64,
    /// The volume seen.
    pub value: f64,
    /// Floor of the usual band.
    pub band_low: f64,
    /// Ceiling of the usual band.
    pub band_high: f64,
}

fn clean(v: f64) -> f64 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

/// The series with clean numbers, merged down to at most [`MAX_POINTS`] points.
pub fn bounded(points: &[ChartPoint]) -> Vec<ChartPoint> {
    let cleaned = points.iter().map(|p| {
        let low = clean(p.band_low);
        ChartPoint {
            at: p.at,
            value: clean(p.value),
            band_low: low,
            band_high: clean(p.band_high).max(low),
        }
    });
    if points.len() <= MAX_POINTS {
        return cleaned.collect();
    }
    let per_bucket = points.len().div_ceil(MAX_POINTS);
    let cleaned: Vec<ChartPoint> = cleaned.collect();
    cleaned
        .chunks(per_bucket)
        .map(|chunk| {
            chunk.iter().skip(1).fold(chunk[0], |acc, p| ChartPoint {
                at: acc.at,
                value: acc.value.max(p.value),
                band_low: acc.band_low.min(p.band_low),
                band_high: acc.band_high.max(p.band_high),
            })
        })
        .collect()
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `v` (at least 1): the top of the Y axis.
pub fn nice_ceiling(v: f64) -> f64 {
    let v = clean(v);
    if v <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * magnitude)
}

/// A volume as a short label (`950`, `12.5k`, `3.1M`).
pub fn format_volume(v: f64) -> String {
    let v = clean(v);
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v.fract() == 0.0 || v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The chart: `title` names it (escaped); an empty series draws the frame with a note.
pub fn volume_chart(title: &str, points: &[ChartPoint]) -> String {
    let points = bounded(points);
    let title = escape_html(title);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"volume-chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\"><title>{title}</title>"
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let axis = format!(
        "<g class=\"axes\" stroke=\"#8a8f98\" stroke-width=\"1\"><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\"/>\
         <line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"/></g>",
        b = TOP + plot_h,
        r = LEFT + plot_w
    );
    if points.is_empty() {
        svg.push_str("<desc>No volume recorded.</desc>");
        svg.push_str(&axis);
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" font-size=\"14\" fill=\"#5c6370\">No volume recorded.</text></svg>",
            x = LEFT + plot_w / 2.0,
            y = TOP + plot_h / 2.0
        ));
        return svg;
    }
    let top = points
        .iter()
        .map(|p| p.value.max(p.band_high))
        .fold(0.0_f64, f64::max);
    let top = nice_ceiling(top * 1.05);
    let n = points.len();
    let x_of = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h - plot_h * (v / top);
    let above = points.iter().filter(|p| p.value > p.band_high).count();
    let peak = points.iter().map(|p| p.value).fold(0.0_f64, f64::max);
    let first = format_ts(points[0].at);
    let last = format_ts(points[n - 1].at);
    svg.push_str(&format!(
        "<desc>{n} points from {first} to {last}; peak {peak}; above the usual band at {above} of them.</desc>",
        peak = format_volume(peak)
    ));
    // The band: along the ceiling, back along the floor.
    let mut band = String::new();
    for (i, p) in points.iter().enumerate() {
        band.push_str(&format!("{:.1},{:.1} ", x_of(i), y_of(p.band_high)));
    }
    for (i, p) in points.iter().enumerate().rev() {
        band.push_str(&format!("{:.1},{:.1} ", x_of(i), y_of(p.band_low)));
    }
    svg.push_str(&format!(
        "<polygon class=\"band\" points=\"{}\" fill=\"#cfe3f7\" stroke=\"#7fa9d6\" stroke-width=\"1\"/>",
        band.trim_end()
    ));
    svg.push_str(&axis);
    svg.push_str(&format!(
        "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{r}\" y2=\"{y:.1}\" stroke=\"#d5d8dc\" stroke-dasharray=\"4 4\"/>",
        y = y_of(top / 2.0),
        r = LEFT + plot_w
    ));
    // Y labels: 0, half and the top of the scale; X labels: first and last period.
    svg.push_str(&format!(
        "<g class=\"labels\" font-size=\"12\" fill=\"#3d434d\">\
         <text x=\"{lx}\" y=\"{y0}\" text-anchor=\"end\">0</text>\
         <text x=\"{lx}\" y=\"{ym}\" text-anchor=\"end\">{mid_label}</text>\
         <text x=\"{lx}\" y=\"{yt}\" text-anchor=\"end\">{top_label}</text>\
         <text x=\"{LEFT}\" y=\"{xl}\" text-anchor=\"start\">{first}</text>",
        lx = LEFT - 6.0,
        y0 = TOP + plot_h + 4.0,
        yt = TOP + 10.0,
        ym = y_of(top / 2.0) + 4.0,
        mid_label = format_volume(top / 2.0),
        top_label = format_volume(top),
        xl = HEIGHT - BOTTOM + 18.0,
    ));
    if n > 1 {
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\">{last}</text>",
            x = LEFT + plot_w,
            y = HEIGHT - BOTTOM + 18.0
        ));
    }
    svg.push_str("</g>");
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x_of(i), y_of(p.value)))
        .collect();
    svg.push_str(&format!(
        "<polyline class=\"volume\" points=\"{}\" fill=\"none\" stroke=\"#1f4f8b\" stroke-width=\"2\"/>",
        line.join(" ")
    ));
    for (i, p) in points.iter().enumerate() {
        let class = if p.value > p.band_high {
            "above"
        } else {
            "within"
        };
        let fill = if class == "above" {
            "#c0392b"
        } else {
            "#1f4f8b"
        };
        svg.push_str(&format!(
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{fill}\"><title>{}: {} (usual {} to {})</title></circle>",
            x_of(i),
            y_of(p.value),
            format_ts(p.at),
            format_volume(p.value),
            format_volume(p.band_low),
            format_volume(p.band_high),
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(hour: i64, value: f64, low: f64, high: f64) -> ChartPoint {
        ChartPoint {
            at: 1_764_288_000_000 + hour * 3_600_000,
            value,
            band_low: low,
            band_high: high,
        }
    }

    #[test]
    fn the_title_is_escaped_and_labels_carry_no_markup() {
        let svg = volume_chart(
            "db user <script>alert(1)</script>@\"x\" & co",
            &[point(0, 5.0, 1.0, 10.0), point(1, 500.0, 1.0, 10.0)],
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains(
            "<title>db user &lt;script&gt;alert(1)&lt;/script&gt;@&quot;x&quot; &amp; co</title>"
        ));
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(
            svg.contains("2025-11-28 00:00 UTC"),
            "first period labelled"
        );
        assert!(svg.contains("2025-11-28 01:00 UTC"), "last period labelled");
        assert!(svg.contains("above the usual band at 1 of them"));
        assert_eq!(svg.matches("class=\"above\"").count(), 1);
        assert_eq!(svg.matches("class=\"within\"").count(), 1);
    }

    #[test]
    fn an_empty_series_draws_the_frame_with_a_note() {
        let svg = volume_chart("Volume", &[]);
        assert!(svg.contains("<title>Volume</title>"));
        assert!(svg.contains("No volume recorded."));
        assert!(!svg.contains("<polyline"));
        assert!(!svg.contains("<circle"));
    }

    #[test]
    fn long_series_are_bounded_without_losing_the_peak() {
        let mut long: Vec<ChartPoint> = (0..1000).map(|h| point(h, 10.0, 2.0, 20.0)).collect();
        long[777].value = 9999.0;
        long[3].band_low = 0.5;
        let merged = bounded(&long);
        assert!(merged.len() <= MAX_POINTS && merged.len() >= MAX_POINTS / 2);
        assert_eq!(merged.iter().map(|p| p.value).fold(0.0, f64::max), 9999.0);
        assert_eq!(merged[0].band_low, 0.5);
        assert_eq!(merged[0].at, long[0].at);
        let svg = volume_chart("Volume", &long);
        assert_eq!(svg.matches("<circle").count(), merged.len());
        assert!(svg.contains("peak 10.0k"));
    }

    #[test]
    fn odd_numbers_are_drawn_as_zero_inside_the_frame() {
        let svg = volume_chart(
            "Volume",
            &[
                point(0, f64::NAN, -3.0, f64::INFINITY),
                point(1, -1.0, 5.0, 2.0),
                point(2, 4.0, 0.0, 0.0),
            ],
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        for coords in svg.split("points=\"").skip(1) {
            let list = coords.split('"').next().unwrap_or_default();
            for pair in list.split(' ') {
                let (x, y) = pair.split_once(',').unwrap_or(("-1", "-1"));
                let (x, y): (f64, f64) = (x.parse().unwrap_or(-1.0), y.parse().unwrap_or(-1.0));
                assert!(
                    (0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y),
                    "{pair}"
                );
            }
        }
        let merged = bounded(&[point(0, 1.0, 5.0, 2.0)]);
        assert_eq!(
            merged[0].band_high, 5.0,
            "the ceiling is never under the floor"
        );
    }

    #[test]
    fn the_axis_ends_on_a_round_number() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(1.05), 2.0);
        assert_eq!(nice_ceiling(47.0), 50.0);
        assert_eq!(nice_ceiling(500.0), 500.0);
        assert_eq!(nice_ceiling(10_500.0), 20_000.0);
        assert_eq!(nice_ceiling(f64::INFINITY), 1.0);
    }

    #[test]
    fn volumes_read_short() {
        assert_eq!(format_volume(950.0), "950");
        assert_eq!(format_volume(2.5), "2.5");
        assert_eq!(format_volume(12_500.0), "12k");
        assert_eq!(format_volume(1_500.0), "1.5k");
        assert_eq!(format_volume(3_100_000.0), "3.1M");
        assert_eq!(format_volume(f64::NAN), "0");
    }
}
