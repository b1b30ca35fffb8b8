//! One SVG chart of every contestant's cold start (init + first invocation), init, warm p50 and
//! peak memory (medians over the rounds), each panel with its target drawn as a line. With both
//! transports, each contestant has a bar per transport. The round-trip transport is left out: its
//! figures are milliseconds of waiting, on another scale (BENCHMARKS.md has them in a table).

use crate::report::{
    INIT_TARGET, Kind, RSS_TARGET_MIB, RUNTIME_FLOOR, Results, STORAGE_FLOOR, TLS_FLOOR_TARGET,
    Transport, WARM_TARGET,
};
use plotters::prelude::*;

const PANEL_WIDTH: u32 = 420;
const HEIGHT: u32 = 520;

struct Panel<'a> {
    title: String,
    unit: &'a str,
    /// (label, value, colour) per bar, top to bottom.
    bars: Vec<(String, f64, RGBColor)>,
    /// (label, x) of the target line.
    target: Option<(String, f64)>,
}

const FUNCTION: RGBColor = RGBColor(70, 110, 180);
const FUNCTION_TLS: RGBColor = RGBColor(30, 60, 120);
const FLOOR: RGBColor = RGBColor(150, 150, 150);
const FLOOR_TLS: RGBColor = RGBColor(100, 100, 100);
const TARGET: RGBColor = RGBColor(200, 60, 50);

fn colour(kind: Kind, transport: Transport) -> RGBColor {
    match (kind == Kind::Function, transport) {
        (true, Transport::Plain) => FUNCTION,
        (true, Transport::Tls) => FUNCTION_TLS,
        (false, Transport::Plain) => FLOOR,
        (false, Transport::Tls) => FLOOR_TLS,
        (true, Transport::Delayed) => FUNCTION_TLS,
        (false, Transport::Delayed) => FLOOR_TLS,
    }
}

/// The chart as an SVG document.
pub fn svg(results: &Results) -> Result<String, String> {
    let rows: Vec<_> = results
        .contestants
        .iter()
        .zip(&results.summary)
        .filter(|(c, _)| c.transport != Transport::Delayed)
        .collect();
    let both = rows.iter().any(|(c, _)| c.transport == Transport::Plain)
        && rows.iter().any(|(c, _)| c.transport == Transport::Tls);
    // The plain-HTTP floors anchor the init and warm targets when present (those targets were
    // set for plain HTTP); the TLS floors anchor the cold target.
    let anchor = if rows.iter().any(|(c, _)| c.transport == Transport::Plain) {
        Transport::Plain
    } else {
        Transport::Tls
    };
    let median_of =
        |name: &str, transport: Transport, f: &dyn Fn(&crate::report::Summary) -> Option<f64>| {
            rows.iter()
                .find(|(c, _)| c.name == name && c.transport == transport)
                .and_then(|(_, s)| f(s))
        };
    let hello_init = median_of(RUNTIME_FLOOR, anchor, &|s| s.init_ms.map(|x| x.median));
    let floor_sum = median_of(RUNTIME_FLOOR, anchor, &|s| s.p50_us.map(|x| x.median))
        .zip(median_of(STORAGE_FLOOR, anchor, &|s| {
            s.p50_us.map(|x| x.median)
        }))
        .map(|(a, b)| a + b);
    let tls_pair = median_of(RUNTIME_FLOOR, Transport::Tls, &|s| {
        s.init_ms.map(|x| x.median)
    })
    .zip(median_of(STORAGE_FLOOR, Transport::Tls, &|s| {
        s.first_ms.map(|x| x.median)
    }))
    .map(|(a, b)| a + b);
    let bars = |f: &dyn Fn(&crate::report::Summary) -> Option<f64>| {
        rows.iter()
            .filter_map(|(c, s)| {
                let label = if both {
                    format!("{} ({})", c.name, c.transport.label())
                } else {
                    c.name.clone()
                };
                Some((label, f(s)?, colour(c.kind, c.transport)))
            })
            .collect::<Vec<_>>()
    };
    let panels = [
        Panel {
            title: "cold: init + first (median)".into(),
            unit: "ms",
            bars: bars(&|s| s.cold_ms.map(|x| x.median)),
            target: tls_pair.map(|p| {
                (
                    format!("TLS: {TLS_FLOOR_TARGET}× floor pair"),
                    p * TLS_FLOOR_TARGET,
                )
            }),
        },
        Panel {
            title: "init (median)".into(),
            unit: "ms",
            bars: bars(&|s| s.init_ms.map(|x| x.median)),
            target: hello_init.map(|h| (format!("{INIT_TARGET}× floor"), h * INIT_TARGET)),
        },
        Panel {
            title: "warm p50 (median)".into(),
            unit: "µs",
            bars: bars(&|s| s.p50_us.map(|x| x.median)),
            // The target applies to get-product; drawn from the floors' medians (the verdict
            // takes the ratio within each round).
            target: floor_sum.map(|f| {
                (
                    format!("get-product target: {WARM_TARGET}× floors"),
                    f * WARM_TARGET,
                )
            }),
        },
        Panel {
            title: "peak RSS (max)".into(),
            unit: "MiB",
            bars: bars(&|s| s.rss_mib.map(|x| x.max)),
            target: Some((format!("{RSS_TARGET_MIB} MiB"), RSS_TARGET_MIB)),
        },
    ];
    let mut out = String::new();
    {
        // Taller with more bars, so every label stays readable.
        let height = HEIGHT.max(40 + 18 * rows.len() as u32);
        let root = SVGBackend::with_string(&mut out, (PANEL_WIDTH * panels.len() as u32, height))
            .into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
            draw(area, panel).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = panel.bars.len().max(1);
    let top = panel
        .bars
        .iter()
        .map(|b| b.1)
        .chain(panel.target.iter().map(|t| t.1))
        .fold(0.0_f64, f64::max)
        * 1.15;
    let names: Vec<String> = panel.bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(150)
        .build_cartesian_2d(0.0..top.max(1.0), (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(panel.unit)
        .x_labels(5)
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    chart.draw_series(
        panel
            .bars
            .iter()
            .enumerate()
            .map(|(i, (_, value, colour))| {
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (*value, SegmentValue::Exact(i + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }),
    )?;
    if let Some((label, x)) = &panel.target {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(*x, SegmentValue::Exact(0)), (*x, SegmentValue::Exact(n))],
                TARGET.stroke_width(2),
            )))?
            .label(label.as_str())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], TARGET.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::test_meta;
    use crate::report::{Contestant, Round};

    #[test]
    fn draws_every_contestant_and_the_targets() {
        let round = |init: Option<f64>, p50: f64, rss: Option<f64>| Round {
            init_ms: init,
            first_ms: 1.0,
            p50_us: p50,
            p99_us: p50,
            rss_mib: rss,
            cpu_us: None,
            samples: 10,
            ..Round::default()
        };
        let contestant = |name: &str, kind: Kind, r: Round| Contestant {
            name: name.into(),
            kind,
            transport: Default::default(),
            route: None,
            workload: String::new(),
            calls: None,
            binary_bytes: 1,
            zip_bytes: 1,
            rounds: vec![r],
        };
        let contestants = vec![
            contestant(
                RUNTIME_FLOOR,
                Kind::RuntimeFloor,
                round(Some(2.0), 100.0, Some(3.0)),
            ),
            contestant(STORAGE_FLOOR, Kind::StorageFloor, round(None, 200.0, None)),
            contestant(
                "get-product",
                Kind::Function,
                round(Some(2.5), 330.0, Some(9.0)),
            ),
        ];
        let results = Results::new(test_meta(1, 10), contestants, vec![]);
        let svg = svg(&results).expect("draws");
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in [
            "get-product",
            RUNTIME_FLOOR,
            STORAGE_FLOOR,
            "1.5× floor",
            "get-product target: 1.15× floors",
            "32 MiB",
        ] {
            assert!(svg.contains(text), "the chart names {text}");
        }
    }
}
