//! Charts drawn on the server as SVG text: bars, a Pareto (bars with the
//! cumulative percentage as a line), and lines over weeks. Labels are
//! escaped here; the result goes into a page as is.

use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 76.0;
/// Colours of successive series (accessible on white).
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];

/// Escapes text for SVG (XML) content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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
    out
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" class="chart"><title>{t}</title>"#,
        t = escape(title)
    );
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

/// Y of a value on a 0..=max axis.
fn y(value: f64, max: f64) -> f64 {
    let max = if max > 0.0 { max } else { 1.0 };
    TOP + plot_height() * (1.0 - (value / max).clamp(0.0, 1.0))
}

fn axis(out: &mut String, max: f64, unit: &str, right_percent: bool) {
    let base = TOP + plot_height();
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{base}" x2="{x2}" y2="{base}" stroke="#444"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#444"/>"##,
        x2 = WIDTH - RIGHT
    );
    for step in 0..=4 {
        let v = max * f64::from(step) / 4.0;
        let at = y(v, max);
        let _ = write!(
            out,
            r##"<text x="{x}" y="{ty}" font-size="10" text-anchor="end" fill="#444">{v}{u}</text>"##,
            x = LEFT - 4.0,
            ty = at + 3.0,
            v = round(v),
            u = escape(unit)
        );
        if right_percent {
            let _ = write!(
                out,
                r##"<text x="{x}" y="{ty}" font-size="10" fill="#d62728">{p}%</text>"##,
                x = WIDTH - RIGHT + 4.0,
                ty = at + 3.0,
                p = step * 25
            );
        }
    }
}

fn round(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn label(out: &mut String, x: f64, text: &str) {
    let short: String = text.chars().take(14).collect();
    let _ = write!(
        out,
        r##"<text x="{x}" y="{ty}" font-size="10" text-anchor="end" transform="rotate(-35 {x} {ty})" fill="#222">{t}</text>"##,
        ty = TOP + plot_height() + 12.0,
        t = escape(&short)
    );
}

fn empty(out: &mut String) {
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" text-anchor="middle" fill="#666">no data yet</text>"##,
        x = WIDTH / 2.0,
        y = HEIGHT / 2.0
    );
}

/// Bars of `(label, value)`, in the given order.
pub fn bars(title: &str, unit: &str, items: &[(String, f64)]) -> String {
    chart(title, unit, items, false)
}

/// A Pareto chart: `items` largest first, with the cumulative share as a
/// line on the right-hand percentage axis.
pub fn pareto(title: &str, items: &[(String, f64)]) -> String {
    chart(title, "", items, true)
}

fn chart(title: &str, unit: &str, items: &[(String, f64)], cumulative: bool) -> String {
    let mut out = String::new();
    open(&mut out, title);
    if items.is_empty() {
        empty(&mut out);
        out.push_str("</svg>");
        return out;
    }
    let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let total: f64 = items.iter().map(|(_, v)| v.max(0.0)).sum();
    axis(&mut out, max, unit, cumulative);
    let slot = plot_width() / items.len() as f64;
    let bar = (slot * 0.7).min(64.0);
    let mut running = 0.0;
    let mut points = Vec::new();
    for (i, (name, value)) in items.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let top = y(value.max(0.0), max);
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="{c}"><title>{n}: {v}</title></rect>"##,
            x = x + (slot - bar) / 2.0,
            w = bar,
            h = TOP + plot_height() - top,
            c = PALETTE[0],
            n = escape(name),
            v = round(*value)
        );
        label(&mut out, x + slot / 2.0, name);
        running += value.max(0.0);
        if total > 0.0 {
            points.push((x + slot / 2.0, y(running / total * 100.0, 100.0)));
        }
    }
    if cumulative && !points.is_empty() {
        polyline(&mut out, &points, "#d62728", "cumulative %");
    }
    out.push_str("</svg>");
    out
}

fn polyline(out: &mut String, points: &[(f64, f64)], colour: &str, name: &str) {
    let path: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = write!(
        out,
        r##"<polyline points="{p}" fill="none" stroke="{colour}" stroke-width="2"><title>{n}</title></polyline>"##,
        p = path.join(" "),
        n = escape(name)
    );
    for (x, y) in points {
        let _ = write!(
            out,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"##
        );
    }
}

/// A series of a line chart: its name and one value per x label (none
/// where there is no data).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// Lines over `labels` (e.g. ISO weeks) on a 0–100 % axis, with a legend.
pub fn percent_lines(title: &str, labels: &[String], series: &[Series]) -> String {
    let mut out = String::new();
    open(&mut out, title);
    if labels.is_empty() {
        empty(&mut out);
        out.push_str("</svg>");
        return out;
    }
    axis(&mut out, 100.0, "%", false);
    let slot = plot_width() / labels.len() as f64;
    for (i, name) in labels.iter().enumerate() {
        label(&mut out, LEFT + slot * i as f64 + slot / 2.0, name);
    }
    for (n, s) in series.iter().enumerate() {
        let colour = PALETTE[n % PALETTE.len()];
        let points: Vec<(f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (LEFT + slot * i as f64 + slot / 2.0, y(v, 100.0))))
            .collect();
        polyline(&mut out, &points, colour, &s.name);
        let _ = write!(
            out,
            r##"<text x="{x}" y="{ly}" font-size="11" fill="{colour}">{t}</text>"##,
            x = LEFT + 8.0 + 150.0 * n as f64,
            ly = TOP + 10.0,
            t = escape(&s.name)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bars("t", "", &[("<script>".to_owned(), 1.0)]);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn a_pareto_draws_one_bar_per_item_and_ends_its_line_at_100_percent() {
        let svg = pareto("modes", &[("a".to_owned(), 3.0), ("b".to_owned(), 1.0)]);
        assert_eq!(svg.matches("<rect").count(), 2);
        // The cumulative line's last point is at the top of the plot.
        assert!(svg.contains(&format!(",{TOP:.1}\" fill=\"none\"")), "{svg}");
    }

    #[test]
    fn without_data_the_chart_says_so() {
        assert!(percent_lines("t", &[], &[]).contains("no data yet"));
        assert!(bars("t", "", &[]).contains("no data yet"));
    }
}
