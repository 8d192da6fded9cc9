//! A Kubernetes list body cut into its pieces while it arrives: the list's `metadata` (its
//! `continue` token) as soon as that is complete, then each of its `items`, one at a time.
//!
//! The apiserver writes a list's `metadata` before its `items` (the field order of
//! `metav1.List`-style types), so a one-shot lister can ask for the next page while it still
//! decodes this one, and no page is ever held whole: only the bytes of the item being read.
//! Only the top level is understood; every value is handed on as raw JSON for serde.

/// One piece of a list body, as raw JSON.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// The list's `metadata` object.
    Meta(&'a [u8]),
    /// One element of `items`.
    Item(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum At {
    /// Before the opening `{`.
    #[default]
    Start,
    /// Where a key (or the closing `}`) is next.
    Key,
    /// After a key, before its `:`.
    Colon,
    /// Before a top-level value.
    Value,
    /// Inside `items`, before an element (or `]`).
    Element,
    /// After the closing `}`.
    Done,
}

/// What a value being scanned belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Key,
    Meta,
    Item,
    Other,
}

/// An unfinished value: where it starts in the buffer and how far it has been scanned.
#[derive(Debug, Clone, Copy)]
struct Open {
    owner: Owner,
    start: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
}

/// Feed it the body's bytes in any chunks; it calls back with every complete piece.
#[derive(Debug, Default)]
pub struct ListSplitter {
    buf: Vec<u8>,
    /// Scanned up to here.
    pos: usize,
    at: At,
    open: Option<Open>,
    /// The key whose value comes next.
    key: Vec<u8>,
}

impl ListSplitter {
    /// Take the next bytes of the body; `on` gets every piece they complete, in order.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        on: &mut impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), SplitError<E>> {
        self.buf.extend_from_slice(chunk);
        let result = self.scan(on);
        // Keep only the unfinished value (at most one item's bytes).
        let keep_from = self.open.map_or(self.pos, |o| o.start);
        self.buf.drain(..keep_from);
        self.pos -= keep_from;
        if let Some(o) = &mut self.open {
            o.start = 0;
        }
        result
    }

    /// The body ended: an error unless the list was complete.
    pub fn finish<E>(&self) -> Result<(), SplitError<E>> {
        if self.at == At::Done {
            Ok(())
        } else {
            Err(SplitError::Malformed("the list ended early".into()))
        }
    }

    fn scan<E>(
        &mut self,
        on: &mut impl FnMut(Piece<'_>) -> Result<(), E>,
    ) -> Result<(), SplitError<E>> {
        while self.pos < self.buf.len() {
            if let Some(open) = self.open {
                let (end, open) = match scan_value(&self.buf, self.pos, open) {
                    Scan::Complete(end, open) => (end, open),
                    Scan::Partial(open) => {
                        // Remember how far the value was scanned (string and depth state).
                        self.pos = self.buf.len();
                        self.open = Some(open);
                        return Ok(());
                    }
                };
                self.open = None;
                self.pos = end;
                let bytes = &self.buf[open.start..end];
                match open.owner {
                    Owner::Key => {
                        // Keys of a list are plain ASCII; an escaped key is no key we read.
                        self.key = bytes[1..bytes.len() - 1].to_vec();
                        self.at = At::Colon;
                    }
                    Owner::Meta => {
                        on(Piece::Meta(bytes)).map_err(SplitError::Callback)?;
                        self.at = At::Key;
                    }
                    Owner::Item => {
                        on(Piece::Item(bytes)).map_err(SplitError::Callback)?;
                        self.at = At::Element;
                    }
                    Owner::Other => self.at = At::Key,
                }
                continue;
            }
            let b = self.buf[self.pos];
            if b.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            match (self.at, b) {
                (At::Start, b'{') => self.at = At::Key,
                (At::Key, b',') => {}
                (At::Key, b'}') => self.at = At::Done,
                (At::Key, b'"') => {
                    self.open_value(Owner::Key);
                    continue;
                }
                (At::Colon, b':') => self.at = At::Value,
                (At::Value, b'[') if self.key == b"items" => self.at = At::Element,
                (At::Value, _) => {
                    let owner = if self.key == b"metadata" {
                        Owner::Meta
                    } else {
                        Owner::Other
                    };
                    self.open_value(owner);
                    continue;
                }
                (At::Element, b',') => {}
                (At::Element, b']') => self.at = At::Key,
                (At::Element, _) => {
                    self.open_value(Owner::Item);
                    continue;
                }
                (at, b) => {
                    return Err(SplitError::Malformed(format!(
                        "unexpected {:?} in a list ({at:?})",
                        char::from(b)
                    )));
                }
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn open_value(&mut self, owner: Owner) {
        self.open = Some(Open {
            owner,
            start: self.pos,
            depth: 0,
            in_string: false,
            escaped: false,
        });
    }
}

enum Scan {
    /// The value ends before this index.
    Complete(usize, Open),
    /// The buffer ended inside the value; scan on from here with the next chunk.
    Partial(Open),
}

/// Scan a value from `from` on, continuing the state of an earlier chunk.
fn scan_value(buf: &[u8], from: usize, open: Open) -> Scan {
    let mut o = open;
    let mut i = from;
    // A scalar (number, true, false, null) ends at the first delimiter after it.
    let scalar = |b: u8| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace();
    while i < buf.len() {
        let b = buf[i];
        if o.in_string {
            if o.escaped {
                o.escaped = false;
            } else if b == b'\\' {
                o.escaped = true;
            } else if b == b'"' {
                o.in_string = false;
                if o.depth == 0 {
                    return Scan::Complete(i + 1, o);
                }
            }
        } else {
            match b {
                b'"' => o.in_string = true,
                b'{' | b'[' => o.depth += 1,
                b'}' | b']' if o.depth > 0 => {
                    o.depth -= 1;
                    if o.depth == 0 {
                        return Scan::Complete(i + 1, o);
                    }
                }
                _ if o.depth == 0 && i > o.start && scalar(b) => return Scan::Complete(i, o),
                _ => {}
            }
        }
        i += 1;
    }
    Scan::Partial(o)
}

/// Why a body could not be split, or the callback's own error.
#[derive(Debug)]
pub enum SplitError<E> {
    Malformed(String),
    Callback(E),
}

#[cfg(test)]
#[path = "list_split_tests.rs"]
mod tests;
