//! A small SVG writer for the report pages: rectangles, lines, text and tooltips, written
//! straight into a string.
//!
//! Coordinates are printed with at most one decimal, so a page's bytes depend only on the
//! report (Rust's float formatting is exact and platform-independent) and long runs do not
//! pay for digits nobody can see.

use std::fmt::Write as _;

use super::escape;

/// An SVG element under construction. Elements are appended in drawing order: later ones
/// paint over earlier ones.
pub(crate) struct Svg {
    out: String,
}

impl Svg {
    /// Starts an SVG of `width` by `height` user units that scales to its container's width.
    pub(crate) fn new(width: f64, height: f64, id: &str, label: &str) -> Svg {
        let mut out = String::with_capacity(4096);
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{}\" class=\"chart\" \
             viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
            escape(id),
            num(width),
            num(height),
            escape(label)
        );
        Svg { out }
    }

    /// A rectangle with a CSS class and, when given, a tooltip.
    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, tip: Option<&str>) {
        self.rect_with(x, y, w, h, class, "", tip);
    }

    /// A rectangle with extra raw attributes (`attrs` must already be escaped), such as an
    /// `id` to link to or an `opacity`.
    #[allow(clippy::too_many_arguments)] // a rectangle is four numbers plus its looks
    pub(crate) fn rect_with(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        class: &str,
        attrs: &str,
        tip: Option<&str>,
    ) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{class}\"{attrs}",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
        self.close_with_tip(tip, "rect");
    }

    /// A line segment.
    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{class}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// A line segment with a tooltip (a wide transparent twin would be friendlier to the
    /// mouse, but doubles the bytes; the CSS gives hoverable lines a wider stroke instead).
    pub(crate) fn line_tip(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str, tip: &str) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{class}\"",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
        self.close_with_tip(Some(tip), "line");
    }

    /// A circle.
    pub(crate) fn circle(&mut self, x: f64, y: f64, r: f64, class: &str) {
        let _ = write!(
            self.out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" class=\"{class}\"/>",
            num(x),
            num(y),
            num(r)
        );
    }

    /// Text anchored at `(x, y)`; `anchor` is `start`, `middle` or `end`.
    pub(crate) fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"{class}\">{}</text>",
            num(x),
            num(y),
            escape(text)
        );
    }

    /// Text with a tooltip.
    pub(crate) fn text_tip(
        &mut self,
        x: f64,
        y: f64,
        anchor: &str,
        class: &str,
        text: &str,
        tip: &str,
    ) {
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"{class}\">\
             <title>{}</title>{}</text>",
            num(x),
            num(y),
            escape(tip),
            escape(text)
        );
    }

    /// Opens a group; every `open_group` needs a `close_group`.
    pub(crate) fn open_group(&mut self, class: &str) {
        let _ = write!(self.out, "<g class=\"{class}\">");
    }

    /// Closes the innermost open group.
    pub(crate) fn close_group(&mut self) {
        self.out.push_str("</g>");
    }

    /// The finished element.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }

    fn close_with_tip(&mut self, tip: Option<&str>, element: &str) {
        match tip {
            Some(tip) => {
                let _ = write!(self.out, "><title>{}</title></{element}>", escape(tip));
            }
            None => self.out.push_str("/>"),
        }
    }
}

/// A coordinate with at most one decimal and no trailing `.0`. Non-finite values (which only
/// a bug would produce) print as 0 rather than as text an SVG parser rejects.
pub(crate) fn num(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        // `-0` would print as "-0"; it is the same place.
        format!("{}", rounded.trunc() as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// Maps a value from a domain onto a pixel range, linearly.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// A scale from `domain` onto `range`. An empty domain maps everything to the range start.
    pub(crate) fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale { domain, range }
    }

    /// Where `value` lands.
    pub(crate) fn at(&self, value: f64) -> f64 {
        let span = self.domain.1 - self.domain.0;
        if span <= 0.0 {
            return self.range.0;
        }
        self.range.0 + (value - self.domain.0) / span * (self.range.1 - self.range.0)
    }

    /// Where `value` lands, held inside the range.
    pub(crate) fn clamped(&self, value: f64) -> f64 {
        let (low, high) = if self.range.0 <= self.range.1 {
            (self.range.0, self.range.1)
        } else {
            (self.range.1, self.range.0)
        };
        self.at(value).clamp(low, high)
    }
}

/// Round tick positions for an axis over `low..=high`: steps of 1, 2 or 5 times a power of
/// ten, about `count` of them.
pub(crate) fn ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    if count == 0 || !low.is_finite() || !high.is_finite() || high <= low {
        return vec![low];
    }
    let raw = (high - low) / count as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * power);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A label for a tick at `tick_s` seconds among `ticks` (in seconds), with as many decimals
/// as their spacing needs, so that neighbouring labels never read the same.
pub(crate) fn seconds_label(tick_s: f64, ticks: &[f64]) -> String {
    let step_s = match ticks {
        [first, second, ..] => (second - first).abs(),
        _ => 1.0,
    };
    let decimals = if step_s >= 1.0 {
        0
    } else if step_s >= 0.1 {
        1
    } else if step_s >= 0.01 {
        2
    } else {
        3
    };
    format!("{:.*} s", decimals, tick_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_labels_follow_the_tick_spacing() {
        let half = ticks(0.0, 6.0, 12);
        let labels: Vec<String> = half.iter().map(|&t| seconds_label(t, &half)).collect();
        assert_eq!(labels[..3], ["0.0 s", "0.5 s", "1.0 s"]);
        let whole = ticks(0.0, 20.0, 12);
        assert_eq!(seconds_label(whole[1], &whole), "2 s");
    }

    #[test]
    fn numbers_print_short_and_stable() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(3.04), "3");
        assert_eq!(num(3.06), "3.1");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(1234.56), "1234.6");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 1.0, 4), vec![0.0, 0.5, 1.0]);
        assert_eq!(ticks(1.0, 1.0, 4), vec![1.0]);
    }

    #[test]
    fn tooltips_and_text_are_escaped() {
        let mut svg = Svg::new(10.0, 10.0, "t", "a<b");
        svg.rect(0.0, 0.0, 1.0, 1.0, "ok", Some("k=\"<&>\""));
        svg.text(0.0, 0.0, "start", "l", "x<y");
        let out = svg.finish();
        assert!(out.contains("<title>k=&quot;&lt;&amp;&gt;&quot;</title>"), "{out}");
        assert!(out.contains(">x&lt;y</text>"), "{out}");
        assert!(out.contains("aria-label=\"a&lt;b\""), "{out}");
    }
}
