//! YAML (and JSON) text → documents of positioned nodes: every scalar keeps its byte span,
//! line, column and quoting style, so a value can be reported as `file:line:column` and
//! replaced in place without touching a byte around it.
//!
//! Built on granit-parser's events (the parser serde-saphyr itself uses). Anchors and aliases
//! are kept as unknown nodes: a scalar reached through an alias is never edited.

use granit_parser::{Event, Parser, ScalarStyle, Span};

/// Where a scalar is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Byte range of the scalar's token, quotes included.
    pub start: usize,
    pub end: usize,
    /// 1-based line and column (characters).
    pub line: usize,
    pub column: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    /// Literal or folded block: never edited in place.
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar {
        value: String,
        style: Style,
        pos: Pos,
        /// Anchored (`&a`): other places may refer to it, so it is not edited.
        anchored: bool,
    },
    Seq(Vec<Node>),
    /// Keys are scalar keys as text (complex keys are dropped).
    Map(Vec<(String, Pos, Node)>),
    /// An alias (`*a`) or something unparsable here.
    Unknown,
}

/// One YAML document of a stream.
#[derive(Debug, Clone)]
pub struct Doc {
    pub root: Node,
    /// 1-based line where the document starts.
    pub line: usize,
}

/// A parse error as one sentence with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn pos(span: &Span, text: &str) -> Pos {
    let start = span.start.byte_offset().unwrap_or(0).min(text.len());
    let end = span
        .end
        .byte_offset()
        .unwrap_or(start)
        .clamp(start, text.len());
    Pos {
        start,
        end,
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// Every document of `text`.
pub fn parse(text: &str) -> Result<Vec<Doc>, YamlError> {
    let mut docs = Vec::new();
    // (container, pending key) stack.
    enum Frame {
        Seq(Vec<Node>),
        Map(Vec<(String, Pos, Node)>, Option<(String, Pos)>),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut doc_line = 1;
    let mut finished: Option<Node> = None;
    let push =
        |stack: &mut Vec<Frame>, node: Node, key_pos: Option<Pos>, finished: &mut Option<Node>| {
            match stack.last_mut() {
                None => *finished = Some(node),
                Some(Frame::Seq(items)) => items.push(node),
                Some(Frame::Map(entries, pending)) => match pending.take() {
                    Some((k, kp)) => entries.push((k, kp, node)),
                    None => match node {
                        Node::Scalar { value, pos, .. } => *pending = Some((value, pos)),
                        // A complex key: remember a placeholder so its value is skipped.
                        _ => {
                            *pending = Some((
                                String::new(),
                                key_pos.unwrap_or(Pos {
                                    start: 0,
                                    end: 0,
                                    line: 0,
                                    column: 0,
                                }),
                            ))
                        }
                    },
                },
            }
        };
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        match event {
            Event::DocumentStart(..) => {
                doc_line = span.start.line().max(1);
                stack.clear();
                finished = None;
            }
            Event::DocumentEnd => {
                if let Some(root) = finished.take() {
                    docs.push(Doc {
                        root,
                        line: doc_line,
                    });
                }
            }
            Event::Scalar(value, style, anchor, _) => {
                let p = pos(&span, text);
                let node = Node::Scalar {
                    value: value.into_owned(),
                    style: match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::SingleQuoted => Style::Single,
                        ScalarStyle::DoubleQuoted => Style::Double,
                        _ => Style::Block,
                    },
                    pos: p,
                    anchored: anchor != 0,
                };
                push(&mut stack, node, Some(p), &mut finished);
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                push(&mut stack, Node::Unknown, None, &mut finished);
            }
            Event::SequenceStart(..) => stack.push(Frame::Seq(Vec::new())),
            Event::MappingStart(..) => stack.push(Frame::Map(Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match stack.pop() {
                    Some(Frame::Seq(items)) => Node::Seq(items),
                    Some(Frame::Map(entries, _)) => Node::Map(entries),
                    None => Node::Unknown,
                };
                push(&mut stack, node, None, &mut finished);
            }
            _ => {}
        }
    }
    Ok(docs)
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// The position of `key` itself in a mapping.
    pub fn key_pos(&self, key: &str) -> Option<Pos> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, p, _)| *p),
            _ => None,
        }
    }

    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }

    /// The node as JSON, with YAML 1.2 core-schema typing for plain scalars (enough to read
    /// a pod spec's selectors and tolerations through k8s-openapi).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Scalar { value, style, .. } => {
                if *style != Style::Plain {
                    return Value::String(value.clone());
                }
                match value.as_str() {
                    "" | "~" | "null" | "Null" | "NULL" => Value::Null,
                    "true" | "True" | "TRUE" => Value::Bool(true),
                    "false" | "False" | "FALSE" => Value::Bool(false),
                    v => v
                        .parse::<i64>()
                        .map(Value::from)
                        .ok()
                        .or_else(|| {
                            v.parse::<f64>()
                                .ok()
                                .filter(|f| f.is_finite())
                                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                        })
                        .unwrap_or_else(|| Value::String(v.to_string())),
                }
            }
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Node::Unknown => Value::Null,
        }
    }
}
