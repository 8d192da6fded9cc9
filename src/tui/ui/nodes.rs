//! Node images pane: per node, every image name with size and source; matches highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit, fit_right, inner, pane_block, pane_message, row_style};
use crate::imageref::ImageRef;
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::columns::{Col, allocate};
use crate::tui::elide::{elide_image, elide_middle, image_key_len};
use crate::tui::layout::visible_rows;
use crate::tui::matching::{Mark, classify};
use crate::tui::view::NodeRow;
use crate::tui::{format, theme};

const SIZE_W: usize = 6;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let folded = app.view.folded.images;
    let extra = if folded > 0 {
        format!("· {folded} Kind base images folded (s)")
    } else {
        String::new()
    };
    frame.render_widget(pane_block(app, Pane::Nodes, &extra), area);
    let body = inner(area);
    let width = usize::from(body.width);
    // The image name keeps its registry, last segment and tag first; the source column
    // shortens (`r+a`) before the name gives way.
    let (mut want, mut key) = (5, 5);
    let state = app.pane(Pane::Nodes);
    let offset = state.scroll_for(app.view.nodes.len(), visible_rows(area));
    for r in app.view.nodes.iter().skip(offset).take(visible_rows(area)) {
        if let NodeRow::Image { name, .. } = r {
            want = want.max(name.chars().count());
            key = key.max(image_key_len(name));
        }
    }
    let w = allocate(
        width.saturating_sub(2),
        1,
        &[
            Col::new(want, key, 0),
            Col::new(SIZE_W, SIZE_W, 1),
            Col::new(6, 3, 2),
        ],
    );
    let (name_w, src_w) = (w[0], w[2]);
    let short = src_w < 6;
    let mut lines = vec![Line::styled(
        format!(
            "  {} {} {}",
            fit("IMAGE", name_w),
            fit_right("SIZE", SIZE_W),
            fit(if short { "SRC" } else { "SOURCE" }, src_w)
        ),
        theme::HEADER,
    )];
    if let Some(msg) = pane_message(app, "nodes") {
        lines.push(msg);
    } else if app.view.nodes.is_empty() {
        lines.push(Line::styled("No nodes.", theme::DIM));
    }
    let wanted: Vec<ImageRef> = app
        .wanted_images()
        .iter()
        .filter_map(|i| ImageRef::parse(i).ok())
        .collect();
    let fix_target = app
        .selected_finding()
        .and_then(|f| f.suggested_image.clone());
    let bound: Vec<String> = app
        .selected_finding()
        .filter(|f| f.kind == crate::diagnose::FindingKind::NotOnNode)
        .map(|f| f.nodes.clone())
        .unwrap_or_default();
    let rows = &app.view.nodes;
    let offset = state.scroll_for(rows.len(), visible_rows(area));
    for (i, row) in rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible_rows(area))
    {
        let (spans, base): (Vec<Span>, Style) = match row {
            NodeRow::Node {
                name,
                images,
                source,
                folded,
                ..
            } => {
                let folded = if *folded > 0 {
                    format!(" · {folded} folded")
                } else {
                    String::new()
                };
                let mut spans = vec![Span::raw(format!(
                    "▾ {name} · {images} images ({source}){folded}"
                ))];
                // Where the pod of the selected finding is bound (spec.nodeName, or the nodes
                // its nodeSelector allows) and the image is missing.
                if bound.contains(name) {
                    spans.push(Span::styled(" ◀ the pod's node: lacks it", theme::ERROR));
                }
                let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
                if text.chars().count() > width {
                    spans = vec![Span::raw(elide_middle(&text, width))];
                }
                (spans, theme::HEADER)
            }
            NodeRow::Note { text } => (
                vec![Span::raw(fit(
                    &elide_middle(&format!("  ! {text}"), width),
                    width,
                ))],
                theme::WARN,
            ),
            NodeRow::Image {
                name,
                size_bytes,
                runtime,
                api,
                parsed,
                ..
            } => {
                let mark = classify(name, parsed.as_ref(), &wanted, fix_target.as_deref());
                let (symbol, style) = match mark {
                    Mark::FixTarget => (theme::MARK_FIX_TARGET, theme::FIX_TARGET),
                    Mark::Exact => (theme::MARK_EXACT, theme::OK),
                    Mark::Near => (theme::MARK_NEAR, theme::NEAR),
                    Mark::None => (" ", Style::new()),
                };
                let src = match (runtime, api, short) {
                    (true, true, false) => "rt+api",
                    (true, true, true) => "r+a",
                    (true, false, _) => "rt",
                    _ => "api",
                };
                (
                    vec![
                        Span::raw(format!("{symbol} ")),
                        Span::raw(fit(&elide_image(name, name_w), name_w)),
                        Span::raw(format!(
                            " {} {}",
                            fit_right(&format::size(*size_bytes), SIZE_W),
                            fit(src, src_w)
                        )),
                    ],
                    style,
                )
            }
        };
        let selected = i == state.selected;
        lines.push(Line::from(spans).style(row_style(app, Pane::Nodes, selected, base)));
    }
    frame.render_widget(Paragraph::new(lines), body);
}
